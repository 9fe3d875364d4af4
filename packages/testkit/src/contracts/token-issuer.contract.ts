import { createHmac } from "node:crypto";
import { refreshClaims, type Claims, type TokenIssuer } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import { jwtVerify } from "jose";
import { describe, expect, test } from "vitest";
import { ALBUM } from "../fixtures/image.fixture.js";
import { mintToken, seedClaims, withBadSignature, withPayload, type MintAlgorithm } from "../fixtures/token.fixture.js";

/** The secrets an issuer under test is built with: the default tenant's (tokens without `iss`) and each issuer's, first one signing. */
export interface TokenIssuerSecrets {
  readonly secret?: string;
  readonly issuers?: ReadonlyMap<string, readonly string[]>;
}

/** Builds the issuer under test, with its clock; clock tolerance is left at the issuer's default. */
export type MakeTokenIssuer = (secrets: TokenIssuerSecrets, options: { readonly now: () => Date }) => TokenIssuer;

const DEFAULT_SECRET = "default-tenant-secret-0123456789abcdefgh";
const A_CURRENT = "tenant-a-current-secret-0123456789abcdefg";
const A_PREVIOUS = "tenant-a-previous-secret-0123456789abcdef";
const B_SECRET = "tenant-b-secret-0123456789abcdefghijklmno";
const FOREIGN_SECRET = "nobody-configured-this-secret-0123456789";

const NOW = new Date("2030-06-01T12:00:00.000Z");
const T = Math.floor(NOW.getTime() / 1000);

const leftTag = (r: E.Either<{ _tag: string }, unknown>): string => (E.isLeft(r) ? r.left._tag : "Right");
const payloadOf = (token: string): unknown => JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
const b64 = (s: string | Buffer): string => Buffer.from(s).toString("base64url");

/** Signs the given segments exactly as they are, so that only their form can make a verifier refuse them. */
const signSegments = (secret: string, header: string, payload: string): string =>
  `${header}.${payload}.${createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url")}`;

/** Whether jose, an independent implementation, accepts `token` as signed by `secret`. */
const joseAccepts = async (token: string, secret: string): Promise<boolean> =>
  jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ["HS256"], currentDate: NOW }).then(
    () => true,
    () => false,
  );

/** The same base64url segment with a stray low bit set in its last character: the same bytes, not the canonical text. */
const withStrayBits = (segment: string): string => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = alphabet.indexOf(segment.at(-1)!);
  return `${segment.slice(0, -1)}${alphabet[last ^ 1]}`;
};

/** The token with its signature's bytes replaced by `change(bytes)`, canonically encoded. */
const withSignatureBytes = (token: string, change: (mac: Buffer) => Buffer): string => {
  const dot = token.lastIndexOf(".");
  return `${token.slice(0, dot + 1)}${b64(change(Buffer.from(token.slice(dot + 1), "base64url")))}`;
};

/**
 * What every TokenIssuer must do. Tenants are token issuers: a token's `iss` selects the secrets it
 * may be signed with, and a token without `iss` belongs to the default tenant.
 */
export const tokenIssuerContract = (make: MakeTokenIssuer): void => {
  describe("TokenIssuer contract", () => {
    const issuers = new Map([
      ["tenant-a", [A_CURRENT, A_PREVIOUS]],
      ["tenant-b", [B_SECRET]],
    ]);
    const issuer = () => make({ secret: DEFAULT_SECRET, issuers }, { now: () => NOW });
    const mint = (claims: Record<string, unknown>, secret = DEFAULT_SECRET, options: { alg?: MintAlgorithm; header?: Record<string, unknown> } = {}) =>
      mintToken({ secret, claims, ...options });

    /** Album claims of `iss` (none: the default tenant), with claims the core does not know, which must survive untouched. */
    const claims = (iss?: string): Claims & Record<string, unknown> => ({
      ...seedClaims(ALBUM, ["image_duplicate", "image_list"], { now: NOW }),
      ...(iss === undefined ? {} : { iss }),
      q: "*",
      image_delete: true,
      extra: { nested: [1, "two", null], text: "éß→🙂" },
    });

    describe("round trips", () => {
      test.for([["the default tenant", undefined] as const, ["an issuer", "tenant-a"] as const])(
        "issue then verify keeps every claim, unknown ones included (%s)",
        async ([, iss]) => {
          const c = claims(iss);
          const token = await issuer().issue(c)();
          if (E.isLeft(token)) throw new Error(token.left.message);
          expect(payloadOf(token.right)).toEqual(c);
          expect(await issuer().verify(token.right)()).toEqual(E.right(c));
        },
      );

      test("verifies a token minted elsewhere (by jose) with the tenant's secret", async () => {
        expect(await issuer().verify(await mint(claims()))()).toEqual(E.right(claims()));
        expect(await issuer().verify(await mint(claims("tenant-b"), B_SECRET))()).toEqual(E.right(claims("tenant-b")));
      });

      test("issues tokens that jose verifies with the tenant's secret, and with no other", async () => {
        const byDefault = await issuer().issue(claims())();
        const byB = await issuer().issue(claims("tenant-b"))();
        if (E.isLeft(byDefault) || E.isLeft(byB)) throw new Error("could not issue");
        expect(await joseAccepts(byDefault.right, DEFAULT_SECRET)).toBe(true);
        expect(await joseAccepts(byDefault.right, B_SECRET)).toBe(false);
        expect(await joseAccepts(byB.right, B_SECRET)).toBe(true);
        expect(await joseAccepts(byB.right, DEFAULT_SECRET)).toBe(false);
      });
    });

    describe("tenants", () => {
      test("a token without iss is the default tenant's: its secret verifies it and signs its re-issue", async () => {
        const verified = await issuer().verify(await mint(claims()))();
        if (E.isLeft(verified)) throw new Error(verified.left.message);
        expect(verified.right.iss).toBeUndefined();
        const reissued = await issuer().issue(refreshClaims(verified.right, NOW))();
        if (E.isLeft(reissued)) throw new Error(reissued.left.message);
        expect(payloadOf(reissued.right)).not.toHaveProperty("iss");
        expect(await joseAccepts(reissued.right, DEFAULT_SECRET)).toBe(true);
      });

      test("rotation: every secret of an issuer verifies, the first one signs", async () => {
        expect(await issuer().verify(await mint(claims("tenant-a"), A_CURRENT))()).toEqual(E.right(claims("tenant-a")));
        expect(await issuer().verify(await mint(claims("tenant-a"), A_PREVIOUS))()).toEqual(E.right(claims("tenant-a")));
        const issued = await issuer().issue(claims("tenant-a"))();
        if (E.isLeft(issued)) throw new Error(issued.left.message);
        expect(await joseAccepts(issued.right, A_CURRENT)).toBe(true);
        expect(await joseAccepts(issued.right, A_PREVIOUS)).toBe(false);
      });

      test("a re-issued token keeps its iss and is signed with that tenant's first secret", async () => {
        const later = new Date(NOW.getTime() + 60_000);
        const verified = await issuer().verify(await mint(claims("tenant-a"), A_PREVIOUS))();
        if (E.isLeft(verified)) throw new Error(verified.left.message);
        const reissued = await issuer().issue(refreshClaims(verified.right, later))();
        if (E.isLeft(reissued)) throw new Error(reissued.left.message);
        expect(payloadOf(reissued.right)).toMatchObject({ iss: "tenant-a", iat: T + 60 });
        expect(await joseAccepts(reissued.right, A_CURRENT)).toBe(true);
        const thenIssuer = make({ secret: DEFAULT_SECRET, issuers }, { now: () => later });
        expect(await thenIssuer.verify(reissued.right)()).toEqual(E.right(refreshClaims(verified.right, later)));
      });

      test("refuses an unknown issuer, whatever secret signed it", async () => {
        for (const secret of [FOREIGN_SECRET, DEFAULT_SECRET, A_CURRENT]) {
          expect(await issuer().verify(await mint(claims("tenant-z"), secret))()).toEqual(E.left({ _tag: "Unauthenticated", message: "unknown token issuer" }));
        }
        // An empty issuer is not the default tenant: that one is named by leaving iss out.
        expect(await issuer().verify(await mint(claims(""), DEFAULT_SECRET))()).toEqual(E.left({ _tag: "Unauthenticated", message: "unknown token issuer" }));
      });

      test.for([
        ["tenant-a's iss signed with tenant-b's secret", "tenant-a", B_SECRET],
        ["tenant-b's iss signed with tenant-a's previous secret", "tenant-b", A_PREVIOUS],
        ["tenant-a's iss signed with the default secret", "tenant-a", DEFAULT_SECRET],
        ["no iss, signed with tenant-a's secret", undefined, A_CURRENT],
        ["no iss, signed with tenant-b's secret", undefined, B_SECRET],
      ] as const)("refuses a token signed with another tenant's secret: %s", async ([, iss, secret]) => {
        expect(leftTag(await issuer().verify(await mint(claims(iss), secret))())).toBe("Unauthenticated");
      });

      test("refuses an iss that is not a string", async () => {
        expect(leftTag(await issuer().verify(await mint({ ...claims(), iss: 42 }))())).toBe("Unauthenticated");
        expect(leftTag(await issuer().verify(await mint({ ...claims(), iss: null }))())).toBe("Unauthenticated");
      });

      test("refuses to issue for an unknown issuer", async () => {
        expect(leftTag(await issuer().issue(claims("tenant-z"))())).toBe("Unavailable");
      });

      test("without a default secret, only issuers' tokens verify, and none is issued without iss", async () => {
        const issuersOnly = make({ issuers }, { now: () => NOW });
        expect(await issuersOnly.verify(await mint(claims()))()).toEqual(E.left({ _tag: "Unauthenticated", message: "unknown token issuer" }));
        expect(await issuersOnly.verify(await mint(claims("tenant-b"), B_SECRET))()).toEqual(E.right(claims("tenant-b")));
        expect(leftTag(await issuersOnly.issue(claims())())).toBe("Unavailable");
      });

      test("with only a default secret, tokens naming an issuer are refused", async () => {
        const defaultOnly = make({ secret: DEFAULT_SECRET }, { now: () => NOW });
        expect(await defaultOnly.verify(await mint(claims()))()).toEqual(E.right(claims()));
        expect(await defaultOnly.verify(await mint(claims("tenant-a"), DEFAULT_SECRET))()).toEqual(E.left({ _tag: "Unauthenticated", message: "unknown token issuer" }));
      });
    });

    describe("time", () => {
      test("refuses an expired token, and one without exp", async () => {
        expect(leftTag(await issuer().verify(await mint({ ...claims(), iat: T - 20_000, exp: T - 3600 }))())).toBe("Unauthenticated");
        const { exp: _exp, ...withoutExp } = claims();
        expect(leftTag(await issuer().verify(await mint(withoutExp))())).toBe("Unauthenticated");
        expect(leftTag(await issuer().verify(await mint({ ...claims(), exp: String(T + 3600) }))())).toBe("Unauthenticated");
      });

      test("refuses a token issued in the future beyond the clock skew, and accepts one within it", async () => {
        const ahead = { ...claims(), iat: T + 24 * 3600, exp: T + 25 * 3600 };
        expect(await issuer().verify(await mint(ahead))()).toEqual(E.left({ _tag: "Unauthenticated", message: "token issued in the future" }));
        const skewed = { ...claims(), iat: T + 5, exp: T + 3600 };
        expect(await issuer().verify(await mint(skewed))()).toEqual(E.right(skewed));
      });

      test("honours nbf: refused before it (beyond the skew), accepted from it on", async () => {
        expect(leftTag(await issuer().verify(await mint({ ...claims(), nbf: T + 3600 }))())).toBe("Unauthenticated");
        expect(leftTag(await issuer().verify(await mint({ ...claims(), nbf: String(T) }))())).toBe("Unauthenticated");
        for (const nbf of [T + 5, T, T - 3600]) expect(await issuer().verify(await mint({ ...claims(), nbf }))()).toEqual(E.right({ ...claims(), nbf }));
      });

      test("checks times against the issuer's clock, not the system's", async () => {
        const token = await mint(claims());
        const later = make({ secret: DEFAULT_SECRET }, { now: () => new Date(NOW.getTime() + 5 * 3600_000) });
        expect(leftTag(await later.verify(token)())).toBe("Unauthenticated");
        const earlier = make({ secret: DEFAULT_SECRET }, { now: () => new Date(NOW.getTime() - 3600_000) });
        expect(leftTag(await earlier.verify(token)())).toBe("Unauthenticated");
      });
    });

    describe("forgeries", () => {
      test("refuses a tampered payload", async () => {
        const forged = withPayload(await mint(claims()), { ...claims(), abilities: { OTHER: { Access: { image_delete: true } } } });
        expect(leftTag(await issuer().verify(forged)())).toBe("Unauthenticated");
        // Moving a token to another tenant by rewriting its iss breaks the signature too.
        const moved = withPayload(await mint(claims("tenant-a"), A_CURRENT), claims("tenant-b"));
        expect(leftTag(await issuer().verify(moved)())).toBe("Unauthenticated");
      });

      test("refuses a tampered signature", async () => {
        expect(leftTag(await issuer().verify(withBadSignature(await mint(claims())))())).toBe("Unauthenticated");
      });

      test("refuses alg none, with or without a signature", async () => {
        const unsigned = await mint(claims(), DEFAULT_SECRET, { alg: "none" });
        expect(leftTag(await issuer().verify(unsigned)())).toBe("Unauthenticated");
        const signed = signSegments(DEFAULT_SECRET, b64('{"typ":"JWT","alg":"none"}'), b64(JSON.stringify(claims())));
        expect(leftTag(await issuer().verify(signed)())).toBe("Unauthenticated");
      });

      test.for(["HS512", "HS384"] as const)("refuses %s, even signed with the right secret", async (alg) => {
        expect(leftTag(await issuer().verify(await mint(claims(), DEFAULT_SECRET, { alg }))())).toBe("Unauthenticated");
      });

      test.for([
        ["alg in another case", { typ: "JWT", alg: "hs256" }],
        ["no alg", { typ: "JWT" }],
        ["a crit header", { typ: "JWT", alg: "HS256", crit: ["exp"] }],
        ["an empty crit header", { typ: "JWT", alg: "HS256", crit: [] }],
        ["an unencoded payload (b64: false)", { typ: "JWT", alg: "HS256", b64: false, crit: ["b64"] }],
      ] as const)("refuses a header with %s, even signed with the right secret", async ([, header]) => {
        const token = signSegments(DEFAULT_SECRET, b64(JSON.stringify(header)), b64(JSON.stringify(claims())));
        expect(leftTag(await issuer().verify(token)())).toBe("Unauthenticated");
      });

      test("refuses claims of the wrong shape", async () => {
        expect(leftTag(await issuer().verify(await mint({ ...claims(), abilities: "all" }))())).toBe("Unauthenticated");
        expect(leftTag(await issuer().verify(await mint({ ...claims(), user_id: 42 }))())).toBe("Unauthenticated");
      });
    });

    describe("malformed tokens", () => {
      const header = b64('{"typ":"JWT","alg":"HS256"}');
      // Long enough that its base64url has a partial last group, where stray bits and padding can go.
      const json = (() => {
        for (let pad = "";; pad += "x") {
          const s = JSON.stringify({ ...claims(), pad, extra: "??>>" });
          if (b64(s).length % 4 === 2) return s;
        }
      })();
      const payload = b64(json);

      test("the well-formed token these cases alter verifies", async () => {
        expect(E.isRight(await issuer().verify(signSegments(DEFAULT_SECRET, header, payload))())).toBe(true);
      });

      test.for([
        ["padding", () => signSegments(DEFAULT_SECRET, header, `${payload}==`)],
        ["padding on the header", () => signSegments(DEFAULT_SECRET, `${header}=`, payload)],
        ["the standard base64 alphabet", () => signSegments(DEFAULT_SECRET, header, Buffer.from(json).toString("base64").replace(/=+$/, ""))],
        ["stray bits in the last character", () => signSegments(DEFAULT_SECRET, header, withStrayBits(payload))],
        ["garbage inside a segment", () => signSegments(DEFAULT_SECRET, header, `${payload.slice(0, 10)}!${payload.slice(10)}`)],
        ["whitespace inside a segment", () => signSegments(DEFAULT_SECRET, header, `${payload.slice(0, 10)} ${payload.slice(10)}`)],
        ["an empty header", () => signSegments(DEFAULT_SECRET, "", payload)],
        ["an empty payload", () => signSegments(DEFAULT_SECRET, header, "")],
        ["a payload that is an array", () => signSegments(DEFAULT_SECRET, header, b64(JSON.stringify([claims()])))],
        ["a payload that is a string", () => signSegments(DEFAULT_SECRET, header, b64(JSON.stringify(json)))],
        ["a header that is an array", () => signSegments(DEFAULT_SECRET, b64('["JWT","HS256"]'), payload)],
        ["a payload that is not UTF-8", () => signSegments(DEFAULT_SECRET, header, b64(Buffer.concat([Buffer.from(json.slice(0, -2)), Buffer.from([0xff]), Buffer.from('"}')])))],
        ["a signature with stray bits", () => {
          const token = signSegments(DEFAULT_SECRET, header, payload);
          const dot = token.lastIndexOf(".");
          return `${token.slice(0, dot + 1)}${withStrayBits(token.slice(dot + 1))}`;
        }],
        // Well-formed base64url of the wrong length, starting with the right MAC's bytes.
        ["a truncated signature", () => withSignatureBytes(signSegments(DEFAULT_SECRET, header, payload), (mac) => mac.subarray(0, 31))],
        ["a signature one byte too long", () => withSignatureBytes(signSegments(DEFAULT_SECRET, header, payload), (mac) => Buffer.concat([mac, Buffer.from([0])]))],
        ["the signature twice", () => withSignatureBytes(signSegments(DEFAULT_SECRET, header, payload), (mac) => Buffer.concat([mac, mac]))],
      ] as const)("refuses a token with %s, even signed with the right secret", async ([, build]) => {
        expect(leftTag(await issuer().verify(build())())).toBe("Unauthenticated");
      });

      test.for([
        ["empty", ""],
        ["two segments", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9"],
        ["four segments", "a.b.c.d"],
        ["not base64", "!!!.@@@.###"],
        ["not JSON", `${b64("nope")}.${b64("nope")}.c2ln`],
        ["the whole header value", 'Token token="abc.def.ghi"'],
      ] as const)("refuses a malformed token (%s)", async ([, token]) => {
        expect(leftTag(await issuer().verify(token)())).toBe("Unauthenticated");
      });
    });
  });
};
