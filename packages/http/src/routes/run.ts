import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Claims, DomainError } from "@image-api/core";
import type { TaskEither } from "fp-ts/lib/TaskEither.js";
import { sendDomainError } from "../send.js";

/**
 * A route's path under `at`, the prefix its routes are registered with. The API's routes share one
 * router instead of one each: Express walks every router a request passes through afresh.
 */
export const under = (at: string, path: string): string => (path === "/" ? at : `${at}${path}`);

/** Runs a command for an authenticated request: Left → mapped error, Right → `ok`. */
export const handle =
  <A>(
    command: (caller: Claims, req: Request) => TaskEither<DomainError, A>,
    ok: (res: Response, value: A) => Promise<void> | void,
  ): RequestHandler =>
  async (req: Request, res: Response, next: NextFunction) => {
    try {
      const result = await command(res.locals.caller as Claims, req)();
      if (result._tag === "Left") sendDomainError(res, result.left);
      else await ok(res, result.right);
    } catch (e) {
      next(e);
    }
  };
