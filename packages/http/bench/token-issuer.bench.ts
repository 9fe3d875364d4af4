/**
 * What authenticating a request costs in token work: verify the caller's token, then sign its
 * refreshed X-token. The former jose issuer (WebCrypto, key imported once) against the node:crypto
 * one, side by side in one process, rounds interleaved so neither gets a warmer machine.
 *
 *   npx tsx --conditions=@image-api/source packages/http/bench/token-issuer.bench.ts [iterations]
 */
import { webcrypto } from "node:crypto";
import { ClaimsCodec, refreshClaims, type Claims } from "@image-api/core";
import { hmacTokenIssuer } from "@image-api/adapters";
import { mintToken, seedClaims } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import { jwtVerify, SignJWT } from "jose";
import { authenticate, reissueCache } from "../src/middleware/authenticate.js";

const ITERATIONS = Number(process.argv[2] ?? 20_000);
const ROUNDS = 5;
const SECRET = "bench-secret-0123456789-abcdefghijklmnop";
const now = new Date();

/** The issuer as it was before node:crypto: jose's jwtVerify and SignJWT over an imported WebCrypto key. */
const joseBaseline = (secret: string) => {
  let imported: Promise<webcrypto.CryptoKey> | undefined;
  const key = () => (imported ??= webcrypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]));
  return {
    verify: async (token: string): Promise<Claims> => {
      const { payload } = await jwtVerify(token, await key(), { algorithms: ["HS256"], requiredClaims: ["exp"], clockTolerance: 30, currentDate: now });
      const claims = ClaimsCodec.decode(payload);
      if (E.isLeft(claims) || (claims.right.iat ?? 0) > now.getTime() / 1000 + 30) throw new Error("refused");
      return claims.right;
    },
    issue: async (claims: Claims): Promise<string> => new SignJWT(claims).setProtectedHeader({ typ: "JWT", alg: "HS256" }).sign(await key()),
  };
};

const hmac = hmacTokenIssuer({ secret: SECRET, now: () => now });
const hmacAsync = {
  verify: async (token: string): Promise<Claims> => {
    const r = await hmac.verify(token)();
    if (E.isLeft(r)) throw new Error(r.left.message);
    return r.right;
  },
  issue: async (claims: Claims): Promise<string> => {
    const r = await hmac.issue(claims)();
    if (E.isLeft(r)) throw new Error(r.left.message);
    return r.right;
  },
};

const token = await mintToken({ secret: SECRET, claims: { ...seedClaims("00100000123BB124", ["image_duplicate", "image_list", "image_upload"], { now }), q: "*" } });
// One of each for the whole run, as the service keeps one.
const jose = joseBaseline(SECRET);
const claims = await jose.verify(token);

type Step = () => Promise<unknown>;
const time = async (step: Step): Promise<number> => {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) await step();
  return Number(process.hrtime.bigint() - start) / 1000 / ITERATIONS;
};

/** The middleware itself, with a stub request and response: verify, then sign or reuse the X-token. */
const middleware = (cached: boolean): Step => {
  const clock = { now: () => now };
  const run = authenticate(hmac, clock, cached ? reissueCache() : { reuse: () => undefined, remember: () => undefined, size: () => 0 });
  const header = `Token token="${token}"`;
  const req = { get: () => header } as never;
  const res = { setHeader: () => undefined, locals: {} } as never;
  return () => run(req, res, () => undefined);
};

const cases: [string, Step][] = [
  ["jose verify", () => jose.verify(token)],
  ["jose issue", () => jose.issue(refreshClaims(claims, now))],
  ["jose verify + issue", async () => jose.issue(refreshClaims(await jose.verify(token), now))],
  ["hmac verify", () => hmacAsync.verify(token)],
  ["hmac issue", () => hmacAsync.issue(refreshClaims(claims, now))],
  ["hmac verify + issue", async () => hmacAsync.issue(refreshClaims(await hmacAsync.verify(token), now))],
  ["authenticate, re-signing every time", middleware(false)],
  ["authenticate, X-token reused", middleware(true)],
];

const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (const [, step] of cases) for (let i = 0; i < 2_000; i++) await step();
for (let round = 0; round < ROUNDS; round++) for (const [name, step] of cases) samples.get(name)!.push(await time(step));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`node ${process.version}, ${ITERATIONS} iterations x ${ROUNDS} rounds, median µs per call`);
const width = Math.max(...cases.map(([name]) => name.length));
for (const [name] of cases) {
  const m = median(samples.get(name)!);
  console.log(`${name.padEnd(width)}  ${m.toFixed(2).padStart(7)} µs  ${Math.round(1e6 / m).toLocaleString("en").padStart(9)} /s`);
}
const ratio = median(samples.get("jose verify + issue")!) / median(samples.get("hmac verify + issue")!);
console.log(`verify + issue: ${ratio.toFixed(1)}x faster`);
