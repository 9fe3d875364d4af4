import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
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
const RANK = new Map(ORDER.map((h, i) => [h.toLowerCase(), i]));
const CASING = new Map([...ORDER, "Content-Length", "Content-Disposition", "X-Total-Count", "Link", "WWW-Authenticate"].map((h) => [h.toLowerCase(), h]));
const rank = (name: string): number => (name === "content-length" ? 1000 : (RANK.get(name) ?? 500));

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Re-sets the headers in canonical order; Node keeps insertion order on the wire. */
const reorder = (res: Response): void => {
  const names = res.getHeaderNames().sort((a, b) => rank(a) - rank(b));
  const values = names.map((n) => res.getHeader(n));
  for (const n of names) res.removeHeader(n);
  names.forEach((n, i) => res.setHeader(CASING.get(n) ?? n, values[i]!));
};

export const responseHeaders = (req: Request, res: Response, next: NextFunction): void => {
  const started = process.hrtime.bigint();
  for (const [name, value] of FIXED) res.setHeader(name, value);
  const incoming = req.get("X-Request-Id");
  res.setHeader("X-Request-Id", incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID());
  const writeHead = res.writeHead;
  res.writeHead = function (this: Response, ...args: unknown[]) {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    res.setHeader("X-Runtime", seconds.toFixed(6));
    res.locals["route"] = routePattern(req);
    reorder(res);
    return (writeHead as (...a: unknown[]) => Response).apply(this, args);
  } as Response["writeHead"];
  next();
};
