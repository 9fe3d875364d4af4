import type { Claims, TokenIssuer } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, type TestAPI } from "vitest";
import { ALBUM } from "../fixtures/image.fixture.js";
import { seedClaims, withBadSignature, withPayload, type MintAlgorithm } from "../fixtures/token.fixture.js";

/** Signs claims with the issuer's own secret (or deliberately otherwise), as a foreign client would. */
export type Mint = (claims: Record<string, unknown>, options?: { readonly alg?: MintAlgorithm; readonly header?: Record<string, unknown> }) => Promise<string>;

const leftTag = (r: E.Either<{ _tag: string }, unknown>): string => (E.isLeft(r) ? r.left._tag : "Right");
const payloadOf = (token: string): unknown => JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));

/** What every TokenIssuer must do. */
export const tokenIssuerContract = (test: TestAPI<{ issuer: TokenIssuer; mint: Mint }>): void => {
  describe("TokenIssuer contract", () => {
    const claims = (): Claims & Record<string, unknown> => ({
      ...seedClaims(ALBUM, ["image_duplicate", "image_list"]),
      iss: "secret-id",
      // Claims the core does not know must survive a round trip untouched.
      q: "*",
      image_delete: true,
      extra: { nested: [1, "two", null] },
    });

    test("issue then verify keeps every claim, unknown ones included", async ({ issuer }) => {
      const c = claims();
      const token = await issuer.issue(c)();
      if (E.isLeft(token)) throw new Error(token.left.message);
      expect(payloadOf(token.right)).toEqual(c);
      expect(await issuer.verify(token.right)()).toEqual(E.right(c));
    });

    test("verifies a token minted elsewhere with the shared secret", async ({ issuer, mint }) => {
      const c = claims();
      expect(await issuer.verify(await mint(c))()).toEqual(E.right(c));
    });

    test("refuses an expired token", async ({ issuer, mint }) => {
      const c = { ...claims(), iat: Math.floor(Date.now() / 1000) - 20_000, exp: Math.floor(Date.now() / 1000) - 3600 };
      expect(leftTag(await issuer.verify(await mint(c))())).toBe("Unauthenticated");
    });

    test("refuses a token issued in the future beyond the clock skew, and accepts one within it", async ({ issuer, mint }) => {
      const now = Math.floor(Date.now() / 1000);
      const ahead = { ...claims(), iat: now + 365 * 24 * 3600, exp: now + 366 * 24 * 3600 };
      expect(await issuer.verify(await mint(ahead))()).toMatchObject(E.left({ _tag: "Unauthenticated", message: "token issued in the future" }));
      const skewed = { ...claims(), iat: now + 5, exp: now + 3600 };
      expect(await issuer.verify(await mint(skewed))()).toEqual(E.right(skewed));
    });

    test("refuses a token without exp", async ({ issuer, mint }) => {
      const { exp: _exp, ...withoutExp } = claims();
      expect(leftTag(await issuer.verify(await mint(withoutExp))())).toBe("Unauthenticated");
    });

    test("refuses a tampered payload", async ({ issuer, mint }) => {
      const token = await mint(claims());
      const forged = withPayload(token, { ...claims(), abilities: { OTHER: { Access: { image_delete: true } } } });
      expect(leftTag(await issuer.verify(forged)())).toBe("Unauthenticated");
    });

    test("refuses a tampered signature", async ({ issuer, mint }) => {
      expect(leftTag(await issuer.verify(withBadSignature(await mint(claims())))())).toBe("Unauthenticated");
    });

    test("refuses alg none and algorithms other than HS256", async ({ issuer, mint }) => {
      expect(leftTag(await issuer.verify(await mint(claims(), { alg: "none" }))())).toBe("Unauthenticated");
      expect(leftTag(await issuer.verify(await mint(claims(), { alg: "HS512" }))())).toBe("Unauthenticated");
      expect(leftTag(await issuer.verify(await mint(claims(), { alg: "HS384" }))())).toBe("Unauthenticated");
    });

    test("refuses claims of the wrong shape", async ({ issuer, mint }) => {
      expect(leftTag(await issuer.verify(await mint({ ...claims(), abilities: "all" }))())).toBe("Unauthenticated");
      expect(leftTag(await issuer.verify(await mint({ ...claims(), user_id: 42 }))())).toBe("Unauthenticated");
    });

    test.for([
      ["empty", ""],
      ["two segments", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9"],
      ["four segments", "a.b.c.d"],
      ["not base64", "!!!.@@@.###"],
      ["not JSON", `${Buffer.from("nope").toString("base64url")}.${Buffer.from("nope").toString("base64url")}.c2ln`],
      ["the whole header value", 'Token token="abc.def.ghi"'],
    ] as const)("refuses a malformed token (%s)", async ([, token], { issuer }) => {
      expect(leftTag(await issuer.verify(token)())).toBe("Unauthenticated");
    });
  });
};
