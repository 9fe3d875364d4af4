import type { Claims } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import { jwtVerify, SignJWT } from "jose";
import { describe, expect, test } from "vitest";
import { hmacTokenIssuer, joseTokenIssuer } from "../src/jwt/index.js";

// jose is the reference the HS256 issuer is held to: an independent, widely used implementation. Every
// token either one signs must verify with the other, and for the same claims both must sign the same bytes.

const SECRET = "interop-secret-0123456789-abcdefghijk";
const TENANT_SECRET = "interop-tenant-secret-0123456789-abcdef";
const NOW = new Date("2030-06-01T12:00:00.000Z");
const T = Math.floor(NOW.getTime() / 1000);
const key = (secret: string) => new TextEncoder().encode(secret);

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const CHARS = ["a", "Z", "0", " ", '"', "\\", "/", "\n", "é", "ß", "→", "漢", "🙂", "\u0000", "\u2028", "<", "&", "+", "="];

/** Claims the family could send: album abilities, unknown claims of every JSON type, text from all over Unicode. */
const randomClaims = (random: () => number, iss: string | undefined): Claims & Record<string, unknown> => {
  const text = () => Array.from({ length: Math.floor(random() * 12) }, () => CHARS[Math.floor(random() * CHARS.length)]).join("");
  const value = (depth: number): unknown => {
    const pick = Math.floor(random() * (depth > 2 ? 4 : 6));
    if (pick === 0) return text();
    if (pick === 1) return Math.round((random() - 0.5) * 1e6) / (random() < 0.5 ? 1 : 1000);
    if (pick === 2) return random() < 0.5;
    if (pick === 3) return null;
    if (pick === 4) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [text(), value(depth + 1)]));
  };
  const iat = T - Math.floor(random() * 3600);
  return {
    exp: iat + 14_400,
    iat,
    user_id: text(),
    ...(iss === undefined ? {} : { iss }),
    abilities: { [`album-${Math.floor(random() * 1000)}`]: { Access: { image_list: true, image_upload: random() < 0.5 } } },
    [`x-${text()}`]: value(0),
  };
};

const issuers = new Map([["tenant-a", [TENANT_SECRET]]]);
const hmac = hmacTokenIssuer({ secret: SECRET, issuers, now: () => NOW });
const secretOf = (iss: string | undefined) => (iss === undefined ? SECRET : TENANT_SECRET);

describe("hmacTokenIssuer against jose", () => {
  const random = prng(20300601);
  const cases = Array.from({ length: 200 }, (_, i) => randomClaims(random, i % 2 === 0 ? undefined : "tenant-a"));

  test("tokens jose signs verify, claims intact", async () => {
    for (const claims of cases) {
      const token = await new SignJWT(claims).setProtectedHeader({ typ: "JWT", alg: "HS256" }).sign(key(secretOf(claims.iss)));
      expect(await hmac.verify(token)()).toEqual(E.right(claims));
    }
  });

  test("tokens it issues verify with jose, claims intact, and are the bytes jose signs", async () => {
    for (const claims of cases) {
      const issued = await hmac.issue(claims)();
      if (E.isLeft(issued)) throw new Error(issued.left.message);
      const { payload, protectedHeader } = await jwtVerify(issued.right, key(secretOf(claims.iss)), { algorithms: ["HS256"], currentDate: NOW });
      expect(protectedHeader).toEqual({ typ: "JWT", alg: "HS256" });
      expect(payload).toEqual(claims);
      expect(issued.right).toBe(await new SignJWT(claims).setProtectedHeader({ typ: "JWT", alg: "HS256" }).sign(key(secretOf(claims.iss))));
    }
  });

  test("what jose refuses for a bad signature or expiry, it refuses too", async () => {
    for (const claims of cases.slice(0, 20)) {
      const wrongKey = await new SignJWT(claims).setProtectedHeader({ typ: "JWT", alg: "HS256" }).sign(key("an-unrelated-secret-0123456789-abcdef"));
      await expect(jwtVerify(wrongKey, key(secretOf(claims.iss)), { currentDate: NOW })).rejects.toThrow();
      expect(E.isLeft(await hmac.verify(wrongKey)())).toBe(true);
      const expired = { ...claims, exp: T - 31 };
      const late = await new SignJWT(expired).setProtectedHeader({ typ: "JWT", alg: "HS256" }).sign(key(secretOf(claims.iss)));
      await expect(jwtVerify(late, key(secretOf(claims.iss)), { currentDate: NOW, clockTolerance: 30 })).rejects.toThrow();
      expect(E.isLeft(await hmac.verify(late)())).toBe(true);
    }
  });

  test("joseTokenIssuer, the former name, is the same issuer", async () => {
    expect(joseTokenIssuer).toBe(hmacTokenIssuer);
    const legacy = joseTokenIssuer({ secret: SECRET, now: () => NOW });
    const token = await legacy.issue(cases[0]!)();
    if (E.isLeft(token)) throw new Error(token.left.message);
    expect(await hmac.verify(token.right)()).toEqual(E.right(cases[0]));
  });
});
