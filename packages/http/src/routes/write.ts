import { createHash } from "node:crypto";
import type { Request, RequestHandler, Response } from "express";
import * as TE from "fp-ts/lib/TaskEither.js";
import { pipe } from "fp-ts/lib/function.js";
import { idempotent, tenantOf, type Claims, type Completion, type DomainError, type Idempotent, type StoredResponse } from "@image-api/core";
import type { AppDeps } from "../deps.js";
import { toJson } from "../present/json.js";
import { sendDomainError } from "../send.js";

/** Turns a response into what the repository stores with the effect; absent when the request sent no key. */
export type Record = ((response: StoredResponse) => Completion) | undefined;

/**
 * Runs a write once per `Idempotency-Key`: `request` is what makes two requests the same (the parsed
 * body, or the upload's fields and the file's digest), `effect` receives `record` to hand to its command.
 */
export type Guard = <E extends DomainError, A>(request: unknown, effect: (record: Record) => TE.TaskEither<E, A>) => TE.TaskEither<DomainError, Idempotent<A>>;

export const jsonAnswer = (body: unknown, status = 200): StoredResponse => ({ status, body: toJson(body) });
export const NO_CONTENT: StoredResponse = { status: 204, body: null };

const sendStored = (res: Response, { status, body }: StoredResponse): void => {
  if (body === null) {
    res.status(status).end();
    return;
  }
  res.status(status);
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.vary("Accept-Encoding");
  res.send(body);
};

/** Buffers count by content: a file's bytes enter the fingerprint as their digest. */
const canonical = (v: unknown): unknown =>
  v instanceof Uint8Array
    ? { sha256: createHash("sha256").update(v).digest("hex") }
    : Array.isArray(v)
      ? v.map(canonical)
      : typeof v === "object" && v !== null
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as globalThis.Record<string, unknown>)[k])]),
          )
        : v;

export const fingerprint = (req: Request, request: unknown): string =>
  createHash("sha256")
    .update(JSON.stringify([req.method, req.baseUrl + req.path, canonical(request)]))
    .digest("base64url");

/**
 * A POST or DELETE under /api/v1. Without an `Idempotency-Key` it runs as any request. With one, the
 * first request's answer is stored with its effect and a retry with the same key and request gets it
 * back (`Idempotent-Replayed: true`); see `idempotent` in the core for the rest of the rules.
 */
export const write =
  <A>(
    deps: Pick<AppDeps, "idempotency" | "clock">,
    run: (caller: Claims, req: Request, guard: Guard) => TE.TaskEither<DomainError, Idempotent<A>>,
    render: (res: Response, value: A) => Promise<StoredResponse> | StoredResponse,
  ): RequestHandler =>
  async (req, res, next) => {
    try {
      const caller = res.locals.caller as Claims;
      const header = req.get("Idempotency-Key");
      let rendered: StoredResponse | undefined;
      const guard: Guard =
        header === undefined
          ? (_request, effect) =>
              pipe(
                effect(undefined),
                TE.map((value) => ({ _tag: "Fresh" as const, value })),
              )
          : (request, effect) =>
              idempotent(deps)({ tenant: tenantOf(caller), userId: caller.user_id ?? "", key: header }, fingerprint(req, request), (complete) =>
                effect((response) => {
                  rendered = response;
                  return complete(response);
                }),
              );
      const result = await run(caller, req, guard)();
      if (result._tag === "Left") return sendDomainError(res, result.left);
      if (result.right._tag === "Replayed") {
        res.setHeader("Idempotent-Replayed", "true");
        return sendStored(res, result.right.response);
      }
      sendStored(res, rendered ?? (await render(res, result.right.value)));
    } catch (e) {
      next(e);
    }
  };
