import type { NextFunction, Request, Response } from "express";
import { refreshClaims, refreshedExp, type Claims, type Clock, type TokenIssuer } from "@image-api/core";
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

export interface ReissueCacheOptions {
  /** How many incoming tokens' re-issues are remembered (10 000 by default); the least recently used goes first. */
  readonly maxEntries?: number;
  /** A remembered re-issue is sent again while a fresh one's `exp` would be less than this later (60 s by default). */
  readonly reuseWithinSeconds?: number;
}

export interface ReissueCache {
  /** The re-issue remembered for `incoming`, if a fresh one would expire at about the same time (`exp`). */
  readonly reuse: (incoming: string, exp: number) => string | undefined;
  readonly remember: (incoming: string, reissued: string, exp: number) => void;
  readonly size: () => number;
}

/**
 * The re-issued tokens of recent incoming ones, by the incoming token. A client sends the same token
 * with request after request, and each would otherwise sign an X-token differing only by a few
 * seconds of `iat` and `exp`. Process-local and bounded: a miss only means signing again, and
 * nothing is remembered for a token that did not verify, since only verified tokens get here.
 */
export const reissueCache = ({ maxEntries = 10_000, reuseWithinSeconds = 60 }: ReissueCacheOptions = {}): ReissueCache => {
  const entries = new Map<string, { readonly token: string; readonly exp: number }>();
  return {
    reuse: (incoming, exp) => {
      const hit = entries.get(incoming);
      if (!hit) return undefined;
      entries.delete(incoming);
      if (Math.abs(exp - hit.exp) >= reuseWithinSeconds) return undefined;
      // Map keeps insertion order: re-inserting makes this the most recently used entry.
      entries.set(incoming, hit);
      return hit.token;
    },
    remember: (incoming, token, exp) => {
      entries.delete(incoming);
      entries.set(incoming, { token, exp });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    size: () => entries.size,
  };
};

/**
 * Verifies the caller's token and sends back a refreshed one (`X-token`) with every authenticated
 * response, so an active client never has to log in again. Every request's token is verified; only
 * the re-signing is saved while a recent re-issue of the same token is still as good (`cache`).
 */
export const authenticate =
  (tokens: TokenIssuer, clock: Clock, cache: ReissueCache = reissueCache()) =>
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
    const now = clock.now();
    const reused = cache.reuse(raw, refreshedExp(claims, now));
    if (reused !== undefined) res.setHeader("X-token", reused);
    else {
      const fresh = refreshClaims(claims, now);
      const refreshed = await tokens.issue(fresh)();
      if (refreshed._tag === "Right") {
        res.setHeader("X-token", refreshed.right);
        cache.remember(raw, refreshed.right, fresh.exp);
      }
    }
    res.locals.caller = claims;
    next();
  };
