import { randomUUID } from "node:crypto";
import { OutgoingMessage, type IncomingMessage, type OutgoingHttpHeader, type ServerResponse } from "node:http";
import type { Express, NextFunction, Request, Response } from "express";
import { routePattern } from "../observability/request-log.js";

/** Sent on every response, as the family's API does. */
const FIXED: readonly [string, string][] = [
  ["Cache-Control", "no-cache, no-store"],
  ["Pragma", "no-cache"],
  ["Expires", "Fri, 01 Jan 1990 00:00:00 GMT"],
  ["P3P", 'CP="NOI ADM DEV PSAi COM NAV OUR OTRo STP IND DEM"'],
  ["X-Frame-Options", "DENY"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-XSS-Protection", "1; mode=block"],
  ["X-Download-Options", "noopen"],
  ["X-Permitted-Cross-Domain-Policies", "none"],
  ["Referrer-Policy", "origin-when-cross-origin, strict-origin-when-cross-origin"],
];

/** The family's header order; anything else goes before Content-Length, which is last. */
const ORDER = [
  "Cache-Control",
  "Pragma",
  "Expires",
  "X-access-crop",
  "X-access-rotate",
  "X-access-duplicate",
  "X-message",
  "Content-Type",
  "X-token",
  "Vary",
  "P3P",
  "X-Request-Id",
  "X-Runtime",
  "X-Frame-Options",
  "X-Content-Type-Options",
  "X-XSS-Protection",
  "X-Download-Options",
  "X-Permitted-Cross-Domain-Policies",
  "Referrer-Policy",
];
const ORDER_KEYS = ORDER.map((h) => h.toLowerCase());
const RANK = new Map(ORDER_KEYS.map((h, i) => [h, i]));
const CASING = new Map([...ORDER, "Content-Length", "Content-Disposition", "X-Total-Count", "Link", "WWW-Authenticate"].map((h) => [h.toLowerCase(), h]));
const rank = (name: string): number => (name === "content-length" ? 1000 : (RANK.get(name) ?? 500));

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Node keeps a response's headers in one object, keyed by lower-case name, each entry the
 * [name as written, value] pair, and writes them in the object's key order. That object sits under
 * a symbol of Node's own: it is looked up once and checked on a throwaway message (which also has
 * Node validate the fixed headers once), and where it is not as expected every response goes
 * through the public API instead.
 */
type Entry = [name: string, value: OutgoingHttpHeader];
type Store = Record<string, Entry>;
const STORE: symbol | undefined = (() => {
  const probe = new OutgoingMessage();
  for (const [name, value] of FIXED) probe.setHeader(name, value);
  const key = Object.getOwnPropertySymbols(probe).find((s) => s.description === "kOutHeaders");
  const entry = key === undefined ? undefined : (probe as unknown as Record<symbol, Store | null>)[key]?.["cache-control"];
  return Array.isArray(entry) && entry[0] === FIXED[0]![0] && entry[1] === FIXED[0]![1] ? key : undefined;
})();
const FIXED_KEYS = FIXED.map(([name]) => name.toLowerCase());

/** A fresh store holding the fixed headers and the request id, in place of a dozen validated setHeader calls. */
const seeded = (requestId: string): Store => {
  const store = Object.create(null) as Store;
  for (let i = 0; i < FIXED.length; i++) store[FIXED_KEYS[i]!] = [FIXED[i]![0], FIXED[i]![1]];
  store["x-request-id"] = ["X-Request-Id", requestId];
  return store;
};

/**
 * The same entries in a new object, to replace Node's: the family's order, the family's casing, and
 * any other name in lower case, as it has always gone out.
 */
const inOrder = (current: Store): Store => {
  const next = Object.create(null) as Store;
  for (let i = 0; i < ORDER_KEYS.length; i++) {
    const key = ORDER_KEYS[i]!;
    const entry = current[key];
    if (entry === undefined) continue;
    entry[0] = ORDER[i]!;
    next[key] = entry;
  }
  for (const key in current) {
    if (RANK.has(key) || key === "content-length") continue;
    const entry = current[key]!;
    entry[0] = CASING.get(key) ?? key;
    next[key] = entry;
  }
  const length = current["content-length"];
  if (length !== undefined) {
    length[0] = "Content-Length";
    next["content-length"] = length;
  }
  return next;
};

/** Where Node's store cannot be reached: every header removed and set again, in order. */
const reorder = (res: Response): void => {
  const names = res.getHeaderNames().sort((a, b) => rank(a) - rank(b));
  const values = names.map((n) => res.getHeader(n));
  for (const n of names) res.removeHeader(n);
  names.forEach((n, i) => res.setHeader(CASING.get(n) ?? n, values[i]!));
};

/** When the request reached `responseHeaders`, in res.locals: a null-prototype map Express gives every response. */
const STARTED = "responseHeadersStartedAt";

/**
 * Has every response of `app` written with the family's header order and casing, and X-Runtime. Set
 * on the app's response prototype once rather than on each response: a property added to every
 * response object (or a new closure in one) costs V8 its fast path for them.
 */
export const orderResponseHeaders = (app: Express): void => {
  const writeHead = (Object.getPrototypeOf(app.response) as Response).writeHead as (this: Response, ...a: unknown[]) => Response;
  app.response.writeHead = function writeHeadInOrder(this: Response, ...args: unknown[]) {
    const started = this.locals[STARTED] as number | undefined;
    if (started !== undefined) this.setHeader("X-Runtime", ((performance.now() - started) / 1000).toFixed(6));
    this.locals["route"] = routePattern(this.req);
    const store = this as unknown as Record<symbol, Store | null>;
    if (STORE === undefined) reorder(this);
    else if (store[STORE] !== null) store[STORE] = inOrder(store[STORE]!);
    return writeHead.apply(this, args);
  } as Response["writeHead"];
};

/** The caller's X-Request-Id when it holds only token characters (so it needs no further validation), else a new one. */
const requestIdOf = (req: IncomingMessage): string => {
  const incoming = req.headers["x-request-id"];
  return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
};

/**
 * For a plain Node response outside the app (the server's answer while it starts): the family's
 * headers with `headers`, in the family's order and casing, X-Runtime since `startedAt`.
 */
export const writeFamilyHead = (req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, startedAt: number): void => {
  const all = new Map<string, [string, string]>(FIXED.map(([name, value]) => [name.toLowerCase(), [name, value]]));
  all.set("x-request-id", ["X-Request-Id", requestIdOf(req)]);
  for (const [name, value] of Object.entries(headers)) all.set(name.toLowerCase(), [CASING.get(name.toLowerCase()) ?? name, value]);
  all.set("x-runtime", ["X-Runtime", ((performance.now() - startedAt) / 1000).toFixed(6)]);
  res.writeHead(status, [...all].sort(([a], [b]) => rank(a) - rank(b)).flatMap(([, entry]) => entry));
};

/** The fixed headers and the request id, set first on every response; `orderResponseHeaders` orders them. */
export const responseHeaders = (req: Request, res: Response, next: NextFunction): void => {
  res.locals[STARTED] = performance.now();
  const requestId = requestIdOf(req);
  const store = res as unknown as Record<symbol, Store | null>;
  if (STORE !== undefined && store[STORE] === null) store[STORE] = seeded(requestId);
  else {
    for (const [name, value] of FIXED) res.setHeader(name, value);
    res.setHeader("X-Request-Id", requestId);
  }
  next();
};
