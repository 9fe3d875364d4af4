import type { NextFunction, Request, Response } from "express";
import { refreshClaims, type Claims, type Clock, type TokenIssuer } from "@image-api/core";
import { sendError } from "../send.js";
import { httpError } from "../errors/error.mapper.js";

/** `Token token="…"` (the family's scheme), `Token token=…`, or `Bearer …`. */
export const tokenFrom = (header: string | undefined): string | null => {
  if (!header) return null;
  const token = /^\s*Token\s+token="([^"]*)"\s*$/i.exec(header) ?? /^\s*Token\s+token=([^\s",]+)\s*$/i.exec(header);
  if (token) return token[1]!;
  const bearer = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return bearer ? bearer[1]! : null;
};

/**
 * Verifies the caller's token and sends back a refreshed one (`X-token`) with every authenticated
 * response, so an active client never has to log in again.
 */
export const authenticate =
  (tokens: TokenIssuer, clock: Clock) =>
  async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get("Authorization");
    const raw = tokenFrom(header);
    if (raw === null) {
      sendError(res, httpError(401, "unauthenticated", header ? "malformed Authorization header" : "missing Authorization header"));
      return;
    }
    const verified = await tokens.verify(raw)();
    if (verified._tag === "Left") {
      sendError(res, httpError(401, "unauthenticated", verified.left.message));
      return;
    }
    const claims = verified.right;
    const refreshed = await tokens.issue(refreshClaims(claims, clock.now()))();
    if (refreshed._tag === "Right") res.setHeader("X-token", refreshed.right);
    res.locals.caller = claims;
    next();
  };
