import type { Claims } from "@image-api/core";
import { mintToken, seedClaims, tokenIssuerContract } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test } from "vitest";
import { hmacTokenIssuer } from "../src/jwt/index.js";

const SECRET = "test-secret-of-reasonable-length";
const TENANT_SECRET = "tenant-secret-of-reasonable-length";

/** The token of the seed request and response (`X-token` echoes it). */
const SEED_TOKEN =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE1NTQ3NTk1MzIsImlhdCI6MTU1NDc0NTEzMiwidXNlcl9pZCI6IjRlZDY3MzdiLWZkZWMtNDk5YS1hMWUyLTkyYTAyN2MwNzlmNiIsImFiaWxpdGllcyI6eyIwMDEwMDAwMDEyM0JCMTI0Ijp7IkFjY2VzcyI6eyJpbWFnZV9kdXBsaWNhdGUiOnRydWV9fX19.-etoTcVqMMFU8tjsUuCx1QHl-30CMtRZ7u-h2bmsoJQ";
const SEED_CLAIMS: Claims = {
  exp: 1554759532,
  iat: 1554745132,
  user_id: "4ed6737b-fdec-499a-a1e2-92a027c079f6",
  abilities: { "00100000123BB124": { Access: { image_duplicate: true } } },
};

const NOW = new Date("2030-06-01T12:00:00.000Z");
const T = NOW.getTime() / 1000;
const at = (date: Date) => () => date;
const issuer = hmacTokenIssuer({ secret: SECRET, issuers: new Map([["tenant-a", [TENANT_SECRET]]]), now: at(NOW) });
const mint = (claims: Record<string, unknown>, options: { alg?: "none" | "HS512"; secret?: string } = {}) =>
  mintToken({ secret: options.secret ?? SECRET, claims, ...(options.alg ? { alg: options.alg } : {}) });
const messageOf = (r: E.Either<{ message: string }, unknown>) => (E.isLeft(r) ? r.left.message : "accepted");
const fresh = () => seedClaims("00100000123BB124", ["image_duplicate"], { now: NOW });

describe("hmacTokenIssuer", () => {
  tokenIssuerContract((secrets, { now }) => hmacTokenIssuer({ ...secrets, now }));

  test("re-issuing the seed's claims reproduces the seed token's header and payload", async () => {
    const token = await issuer.issue(SEED_CLAIMS)();
    if (E.isLeft(token)) throw new Error(token.left.message);
    const [header, payload, signature] = token.right.split(".");
    const [seedHeader, seedPayload] = SEED_TOKEN.split(".");
    expect(header).toBe(seedHeader);
    expect(payload).toBe(seedPayload);
    // Signed with our secret, not the seed's unknown one.
    expect(signature).not.toBe(SEED_TOKEN.split(".")[2]);
  });

  test("refuses the seed token itself: it is long expired and signed with another secret", async () => {
    expect(messageOf(await hmacTokenIssuer({ secret: SECRET, now: at(new Date(1554745132_000)) }).verify(SEED_TOKEN)())).toBe("invalid token signature");
    expect(messageOf(await issuer.verify(SEED_TOKEN)())).not.toBe("accepted");
  });

  test("says why a token is refused", async () => {
    const { exp: _exp, ...noExp } = fresh();
    const cases: [Promise<string> | string, string][] = [
      [mint({ ...fresh(), iat: T - 20_000, exp: T - 600 }), "token expired"],
      [mint(fresh(), { secret: "some-other-secret" }), "invalid token signature"],
      [mint(noExp), "token has no exp claim"],
      [mint(fresh(), { alg: "none" }), "token algorithm not allowed"],
      [mint(fresh(), { alg: "HS512" }), "token algorithm not allowed"],
      [mint({ ...fresh(), abilities: [] }), "invalid token claims"],
      [mint({ ...fresh(), iss: 7 }), "invalid token claims"],
      [mint({ ...fresh(), iat: "now" }), "invalid token claim iat"],
      [mint({ ...fresh(), nbf: T + 3600 }), "token not yet valid"],
      [mint({ ...fresh(), iat: T + 3600 }), "token issued in the future"],
      [mint({ ...fresh(), iss: "tenant-b" }), "unknown token issuer"],
      [mint({ ...fresh(), iss: "tenant-a" }), "invalid token signature"],
      [mint(fresh(), { secret: TENANT_SECRET }), "invalid token signature"],
      ["abc", "malformed token"],
      [`${Buffer.from('{"alg":"HS256","crit":["exp"]}').toString("base64url")}.e30.${"A".repeat(43)}`, "token header has unsupported critical parameters"],
    ];
    for (const [token, message] of cases) expect(messageOf(await issuer.verify(await token)())).toBe(message);
  });

  test("tolerates the configured clock skew, and no more", async () => {
    const justExpired = await mint({ ...fresh(), exp: T - 20 });
    const lenient = hmacTokenIssuer({ secret: SECRET, clockToleranceSeconds: 60, now: at(NOW) });
    const strict = hmacTokenIssuer({ secret: SECRET, clockToleranceSeconds: 0, now: at(NOW) });
    expect(E.isRight(await lenient.verify(justExpired)())).toBe(true);
    expect(messageOf(await strict.verify(justExpired)())).toBe("token expired");
    expect(E.isRight(await issuer.verify(justExpired)())).toBe(true);
    expect(messageOf(await issuer.verify(await mint({ ...fresh(), exp: T - 40 }))())).toBe("token expired");
    // The edges, as jose draws them: expired at exp - tolerance, not yet valid after nbf + tolerance, in the future after iat + tolerance.
    expect(messageOf(await issuer.verify(await mint({ ...fresh(), exp: T - 30 }))())).toBe("token expired");
    expect(E.isRight(await issuer.verify(await mint({ ...fresh(), exp: T - 29 }))())).toBe(true);
    expect(E.isRight(await issuer.verify(await mint({ ...fresh(), nbf: T + 30 }))())).toBe(true);
    expect(messageOf(await issuer.verify(await mint({ ...fresh(), nbf: T + 31 }))())).toBe("token not yet valid");
    expect(E.isRight(await issuer.verify(await mint({ ...fresh(), iat: T + 30 }))())).toBe(true);
    expect(messageOf(await issuer.verify(await mint({ ...fresh(), iat: T + 31 }))())).toBe("token issued in the future");
  });

  test("reads the clock when a token is verified, not when the issuer is built", async () => {
    let now = NOW;
    const moving = hmacTokenIssuer({ secret: SECRET, now: () => now });
    const token = await mint(fresh());
    expect(E.isRight(await moving.verify(token)())).toBe(true);
    now = new Date(NOW.getTime() + 5 * 3600_000);
    expect(messageOf(await moving.verify(token)())).toBe("token expired");
  });

  test("a token verified before has its times checked again on every use, and its text must match exactly", async () => {
    let now = NOW;
    for (const rememberVerified of [10_000, 1, 0]) {
      const moving = hmacTokenIssuer({ secret: SECRET, now: () => now, rememberVerified });
      const later = await mint({ ...fresh(), nbf: T + 600, iat: T + 600, exp: T + 3600 });
      now = NOW;
      expect(messageOf(await moving.verify(later)())).toBe("token not yet valid");
      now = new Date(NOW.getTime() + 600_000);
      expect(messageOf(await moving.verify(later)())).toBe("accepted");
      now = NOW;
      expect(messageOf(await moving.verify(later)())).toBe("token not yet valid");
      now = new Date(NOW.getTime() + 3600_000 + 30_000);
      expect(messageOf(await moving.verify(later)())).toBe("token expired");

      now = NOW;
      const token = await mint(fresh());
      expect(messageOf(await moving.verify(token)())).toBe("accepted");
      const [h, p, s] = token.split(".");
      const tampered = `${h}.${p}.${s!.slice(0, -2)}${s!.slice(-2) === "AA" ? "BA" : "AA"}`;
      expect(messageOf(await moving.verify(tampered)())).toBe("invalid token signature");
      expect(messageOf(await moving.verify(`${token} `)())).toBe("malformed token");
      expect(messageOf(await moving.verify(token)())).toBe("accepted");
    }
    expect(() => hmacTokenIssuer({ secret: SECRET, rememberVerified: -1 })).toThrow(/rememberVerified/);
  });

  test("the claims of a remembered token cannot be changed by a caller", async () => {
    const token = await mint(fresh());
    const first = await issuer.verify(token)();
    if (E.isLeft(first)) throw new Error(first.left.message);
    expect(() => {
      (first.right.abilities as Record<string, unknown>)["another-album"] = { Access: { image_delete: true } };
    }).toThrow(TypeError);
    const again = await issuer.verify(token)();
    expect(E.isRight(again) && Object.keys(again.right.abilities ?? {})).toEqual(["00100000123BB124"]);
  });

  test("issues tokens with exactly the family's header", async () => {
    const token = await issuer.issue(fresh())();
    if (E.isLeft(token)) throw new Error(token.left.message);
    expect(Buffer.from(token.right.split(".")[0]!, "base64url").toString()).toBe('{"typ":"JWT","alg":"HS256"}');
  });

  test("says why a token cannot be issued", async () => {
    expect(messageOf(await issuer.issue({ ...fresh(), iss: "tenant-b" })())).toBe("unknown token issuer");
    const tenantsOnly = hmacTokenIssuer({ issuers: new Map([["tenant-a", [TENANT_SECRET]]]) });
    expect(messageOf(await tenantsOnly.issue(fresh())())).toBe("no secret signs tokens without iss");
    expect(messageOf(await issuer.issue({ ...fresh(), exp: Number.POSITIVE_INFINITY })())).toMatch(/^could not sign the token/);
    expect(messageOf(await issuer.issue({ ...fresh(), extra: 1n } as Claims)())).toBe("could not sign the token");
  });

  test("answers without waiting on anything: the task's promise is already settled", async () => {
    const token = await mint(fresh());
    const order: string[] = [];
    const verified = issuer.verify(token)().then(() => order.push("verified"));
    const issued = issuer.issue(fresh())().then(() => order.push("issued"));
    await Promise.resolve().then(() => order.push("one tick"));
    await Promise.all([verified, issued]);
    expect(order).toEqual(["verified", "issued", "one tick"]);
  });

  describe("refuses secrets that would weaken it, naming the tenant and never the secret", () => {
    test.for([
      ["an empty default secret", { secret: "" }, /default tenant has an empty secret/],
      ["no secret at all", {}, /a default secret or at least one issuer/],
      ["an empty issuers map", { issuers: new Map() }, /a default secret or at least one issuer/],
      ["an empty issuer", { issuers: new Map([["", [TENANT_SECRET]]]) }, /issuer must not be empty/],
      ["an issuer without secrets", { issuers: new Map([["tenant-a", []]]) }, /"tenant-a" has no secret/],
      ["an issuer with an empty secret", { issuers: new Map([["tenant-a", [TENANT_SECRET, ""]]]) }, /"tenant-a" has an empty secret/],
      ["a secret two issuers share", { issuers: new Map([["tenant-a", [TENANT_SECRET]], ["tenant-b", ["b".repeat(32), TENANT_SECRET]]]) }, /"tenant-a" and issuer "tenant-b" share a secret/],
      ["an issuer sharing the default secret", { secret: SECRET, issuers: new Map([["tenant-a", [SECRET]]]) }, /default tenant and issuer "tenant-a" share a secret/],
      ["a negative clock tolerance", { secret: SECRET, clockToleranceSeconds: -1 }, /clockToleranceSeconds/],
    ] as const)("%s", ([, options, message]) => {
      let thrown: unknown;
      try {
        hmacTokenIssuer(options);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message).not.toContain(TENANT_SECRET);
      expect((thrown as Error).message).not.toContain(SECRET);
    });

    test("a secret listed twice for the same issuer is one secret", async () => {
      const twice = hmacTokenIssuer({ issuers: new Map([["tenant-a", [TENANT_SECRET, TENANT_SECRET]]]), now: at(NOW) });
      expect(E.isRight(await twice.verify(await mint({ ...fresh(), iss: "tenant-a" }, { secret: TENANT_SECRET }))())).toBe(true);
    });
  });
});
