import { headerOrder } from "./harness.js";

/**
 * The seed exchange's response headers (duplicate-an-image), copied by hand rather than imported from
 * the service, so a change there fails here. Varying values (X-token, X-Request-Id, X-Runtime,
 * Content-Length) are checked by shape where they are used.
 */
export const SEED_HEADERS: readonly [string, string][] = [
  ["cache-control", "no-cache, no-store"],
  ["pragma", "no-cache"],
  ["expires", "Fri, 01 Jan 1990 00:00:00 GMT"],
  ["content-type", "application/json; charset=utf-8"],
  ["vary", "Accept-Encoding"],
  ["p3p", 'CP="NOI ADM DEV PSAi COM NAV OUR OTRo STP IND DEM"'],
  ["x-frame-options", "DENY"],
  ["x-content-type-options", "nosniff"],
  ["x-xss-protection", "1; mode=block"],
  ["x-download-options", "noopen"],
  ["x-permitted-cross-domain-policies", "none"],
  ["referrer-policy", "origin-when-cross-origin, strict-origin-when-cross-origin"],
];

/** The seed's header order, as written on the wire. */
export const SEED_ORDER: readonly string[] = [
  "Cache-Control",
  "Pragma",
  "Expires",
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
  "Content-Length",
];

/** GET /images/:id adds these, in this order, right after Expires. */
export const ACCESS_HEADERS: readonly string[] = ["X-access-crop", "X-access-rotate", "X-access-duplicate"];

/** Headers only a response with a body has; a 204 sends none of them. */
export const BODY_HEADERS: readonly string[] = ["Content-Type", "Vary", "Content-Length"];

/** Added by Node's HTTP layer after the application's headers; not part of the API's contract. */
export const TRANSPORT: ReadonlySet<string> = new Set(["Date", "Connection", "Keep-Alive", "Transfer-Encoding"]);

/** The application's headers of a response, in wire order. */
export const ownHeaderOrder = (res: object): string[] => headerOrder(res).filter((h) => !TRANSPORT.has(h));
