import type { Claims, TokenIssuer } from "@image-api/core";
import { mintToken, seedClaims, tokenIssuerContract, type Mint } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test as base } from "vitest";
import { joseTokenIssuer } from "../src/jwt/index.js";

const SECRET = "test-secret-of-reasonable-length";

const test = base.extend<{ issuer: TokenIssuer; mint: Mint }>({
  // eslint-disable-next-line no-empty-pattern
  issuer: async ({}, use) => use(joseTokenIssuer({ secret: SECRET })),
  // eslint-disable-next-line no-empty-pattern
  mint: async ({}, use) => use((claims, options) => mintToken({ secret: SECRET, claims, ...options })),
});

/** The token of the seed request and response (`X-token` echoes it). */
const SEED_TOKEN =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE1NTQ3NTk1MzIsImlhdCI6MTU1NDc0NTEzMiwidXNlcl9pZCI6IjRlZDY3MzdiLWZkZWMtNDk5YS1hMWUyLTkyYTAyN2MwNzlmNiIsImFiaWxpdGllcyI6eyIwMDEwMDAwMDEyM0JCMTI0Ijp7IkFjY2VzcyI6eyJpbWFnZV9kdXBsaWNhdGUiOnRydWV9fX19.-etoTcVqMMFU8tjsUuCx1QHl-30CMtRZ7u-h2bmsoJQ";
const SEED_CLAIMS: Claims = {
  exp: 1554759532,
  iat: 1554745132,
  user_id: "4ed6737b-fdec-499a-a1e2-92a027c079f6",
  abilities: { "00100000123BB124": { Access: { image_duplicate: true } } },
};

const now = () => Math.floor(Date.now() / 1000);
const messageOf = (r: E.Either<{ message: string }, unknown>) => (E.isLeft(r) ? r.left.message : "accepted");

describe("joseTokenIssuer", () => {
  tokenIssuerContract(test);

  test("re-issuing the seed's claims reproduces the seed token's header and payload", async ({ issuer }) => {
    const token = await issuer.issue(SEED_CLAIMS)();
    if (E.isLeft(token)) throw new Error(token.left.message);
    const [header, payload, signature] = token.right.split(".");
    const [seedHeader, seedPayload] = SEED_TOKEN.split(".");
    expect(header).toBe(seedHeader);
    expect(payload).toBe(seedPayload);
    // Signed with our secret, not the seed's unknown one.
    expect(signature).not.toBe(SEED_TOKEN.split(".")[2]);
  });

  test("refuses the seed token itself: it is long expired and signed with another secret", async ({ issuer }) => {
    expect(E.isLeft(await issuer.verify(SEED_TOKEN)())).toBe(true);
  });

  test("says why a token is refused", async ({ issuer, mint }) => {
    const fresh = seedClaims("00100000123BB124", ["image_duplicate"]);
    const expired = { ...fresh, iat: now() - 20_000, exp: now() - 600 };
    const { exp: _exp, ...noExp } = fresh;
    const otherSecret = await mintToken({ secret: "some-other-secret", claims: fresh });
    expect(messageOf(await issuer.verify(await mint(expired))())).toBe("token expired");
    expect(messageOf(await issuer.verify(otherSecret)())).toBe("invalid token signature");
    expect(messageOf(await issuer.verify(await mint(noExp))())).toBe("token has no exp claim");
    expect(messageOf(await issuer.verify(await mint(fresh, { alg: "none" }))())).toBe("token algorithm not allowed");
    expect(messageOf(await issuer.verify(await mint(fresh, { alg: "HS512" }))())).toBe("token algorithm not allowed");
    expect(messageOf(await issuer.verify(await mint({ ...fresh, abilities: [] }))())).toBe("invalid token claims");
    expect(messageOf(await issuer.verify("abc")())).toBe("malformed token");
  });

  test("tolerates the configured clock skew, and no more", async ({ mint }) => {
    const lenient = joseTokenIssuer({ secret: SECRET, clockToleranceSeconds: 60 });
    const strict = joseTokenIssuer({ secret: SECRET, clockToleranceSeconds: 0 });
    const justExpired = await mint({ ...seedClaims("A1", ["image_list"]), exp: now() - 20 });
    expect(E.isRight(await lenient.verify(justExpired)())).toBe(true);
    expect(messageOf(await strict.verify(justExpired)())).toBe("token expired");
    const defaults = joseTokenIssuer({ secret: SECRET });
    expect(E.isRight(await defaults.verify(justExpired)())).toBe(true);
    expect(E.isLeft(await defaults.verify(await mint({ ...seedClaims("A1", ["image_list"]), exp: now() - 40 }))())).toBe(true);
  });

  test("issues tokens with exactly the family's header", async ({ issuer }) => {
    const token = await issuer.issue(seedClaims("A1", ["image_list"]))();
    if (E.isLeft(token)) throw new Error(token.left.message);
    expect(Buffer.from(token.right.split(".")[0]!, "base64url").toString()).toBe('{"typ":"JWT","alg":"HS256"}');
  });

  test("refuses an empty secret", () => {
    expect(() => joseTokenIssuer({ secret: "" })).toThrow();
  });
});
