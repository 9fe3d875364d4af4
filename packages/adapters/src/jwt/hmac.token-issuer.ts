import { ClaimsCodec, unauthenticated, unavailable, type Claims, type TokenIssuer, type Unauthenticated, type Unavailable } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { decodeBase64url, decodeHeaderSegment, decodeJsonSegment, signedByOneOf, signHs256, splitCompactJws } from "./hs256.js";
import { keyring, type TokenSecrets } from "./keyring.js";
import { remember } from "../shared/remembered.js";

export interface HmacTokenIssuerOptions extends TokenSecrets {
  /** Accepted clock skew between the token's issuer and this host, in seconds (30 by default). */
  readonly clockToleranceSeconds?: number;
  /** This host's clock, which `exp`, `nbf` and `iat` are checked against; the system clock by default. */
  readonly now?: () => Date;
  /**
   * How many verified tokens are remembered (10 000 by default, 0 for none), so that a token sent
   * again is not decoded and its signature not checked again; its times are checked on every call.
   */
  readonly rememberVerified?: number;
}

/** Longer tokens are verified every time: the memory the cache may hold stays bounded. */
const REMEMBERED_MAX_CHARS = 4096;

/** What a verified token's later uses still depend on: its claims, and the times they are checked against. */
interface Verified {
  readonly claims: Claims;
  readonly exp: number;
  readonly nbf: number | undefined;
  readonly iat: number | undefined;
}

const deepFreeze = <T>(value: T): T => {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
};

const refused = (message: string): E.Either<Unauthenticated, never> => E.left(unauthenticated(message));

/** The first NumericDate claim present that is not a number. */
const badTime = (payload: Record<string, unknown>): string | undefined =>
  (["iat", "nbf", "exp"] as const).find((claim) => payload[claim] !== undefined && typeof payload[claim] !== "number");

/**
 * HS256 JWTs, keyed by tenant (`iss`), signed and verified with node:crypto.
 *
 * The host verifies and re-signs a token on every request. Through jose each of those is a WebCrypto
 * round trip (a promise and a hop to the thread pool, ~50 µs), where an HMAC over a few hundred bytes
 * takes a few microseconds in createHmac. The format is small enough to own: one algorithm, compact
 * serialisation only. jose stays where an independent implementation is worth more than speed, in the
 * tests, which check that tokens signed by either one verify with the other.
 *
 * The rules are those of RFC 8725 and the family's tokens: `alg` is pinned to HS256 (`none`, every other
 * algorithm and any `crit` header are refused), every segment is strict base64url holding a JSON object,
 * `exp` is required, `nbf` is honoured, and an `iat` in the future beyond the clock tolerance is refused.
 * The key is chosen by the payload's `iss`, read before the signature is checked and trusted only once it is.
 */
export const hmacTokenIssuer = ({ clockToleranceSeconds = 30, now = () => new Date(), rememberVerified = 10_000, ...secrets }: HmacTokenIssuerOptions): TokenIssuer => {
  if (!Number.isFinite(clockToleranceSeconds) || clockToleranceSeconds < 0) throw new Error("hmacTokenIssuer: clockToleranceSeconds must be a non-negative number");
  if (!Number.isInteger(rememberVerified) || rememberVerified < 0) throw new Error("hmacTokenIssuer: rememberVerified must be a non-negative integer");
  const keys = keyring(secrets);
  /**
   * Tokens that passed every check, by their exact text. The keys never change after construction,
   * so the same text would pass the same checks again: only the times, which move, are checked anew.
   * A client sends one token request after request, and this saves the decoding, the claims'
   * validation and the HMAC. Oldest first out; a token that failed is never remembered.
   */
  const verified = new Map<string, Verified>();

  /** The checks of a token's times, in the order `decode` makes them. */
  const inTime = ({ claims, exp, nbf, iat }: Verified): E.Either<Unauthenticated, Claims> => {
    const at = now().getTime() / 1000;
    const seconds = Math.floor(at);
    if (nbf !== undefined && nbf > seconds + clockToleranceSeconds) return refused("token not yet valid");
    if (exp <= seconds - clockToleranceSeconds) return refused("token expired");
    if (iat !== undefined && iat > at + clockToleranceSeconds) return refused("token issued in the future");
    return E.right(claims);
  };

  const check = (token: string): E.Either<Unauthenticated, Claims> => {
    const known = verified.get(token);
    if (known !== undefined) return inTime(known);
    const result = decode(token);
    if (E.isLeft(result) || rememberVerified === 0 || token.length > REMEMBERED_MAX_CHARS) return result;
    const claims = deepFreeze(result.right);
    remember(verified, token, { claims, exp: claims.exp, nbf: claims.nbf, iat: claims.iat }, rememberVerified);
    return E.right(claims);
  };

  const decode = (token: string): E.Either<Unauthenticated, Claims> => {
    const segments = typeof token === "string" ? splitCompactJws(token) : undefined;
    if (!segments) return refused("malformed token");
    const [encodedHeader, encodedPayload, encodedSignature] = segments;

    const header = decodeHeaderSegment(encodedHeader);
    if (!header || typeof header["alg"] !== "string" || header["alg"] === "") return refused("malformed token");
    // No extension is understood here, so a token that declares one critical cannot be processed (RFC 7515 §4.1.11).
    if (header["crit"] !== undefined) return refused("token header has unsupported critical parameters");
    if (header["alg"] !== "HS256") return refused("token algorithm not allowed");

    const payload = decodeJsonSegment(encodedPayload);
    const signature = decodeBase64url(encodedSignature);
    if (!payload || !signature) return refused("malformed token");

    const iss = payload["iss"];
    if (iss !== undefined && typeof iss !== "string") return refused("invalid token claims");
    const candidates = keys.verifying(iss);
    if (!candidates) return refused("unknown token issuer");
    if (!signedByOneOf(candidates, `${encodedHeader}.${encodedPayload}`, signature)) return refused("invalid token signature");

    // Only the issuer's own claims from here on. Times as jose checks them: whole seconds of this host's clock.
    const at = now().getTime() / 1000;
    const seconds = Math.floor(at);
    if (payload["exp"] === undefined) return refused("token has no exp claim");
    const malformedTime = badTime(payload);
    if (malformedTime) return refused(`invalid token claim ${malformedTime}`);
    if (typeof payload["nbf"] === "number" && payload["nbf"] > seconds + clockToleranceSeconds) return refused("token not yet valid");
    if ((payload["exp"] as number) <= seconds - clockToleranceSeconds) return refused("token expired");
    const claims = ClaimsCodec.decode(payload);
    if (E.isLeft(claims)) return refused("invalid token claims");
    if (claims.right.iat !== undefined && claims.right.iat > at + clockToleranceSeconds) return refused("token issued in the future");
    return claims;
  };

  const sign = (claims: Claims): E.Either<Unavailable, string> => {
    const key = keys.signing(claims.iss);
    if (!key) return E.left(unavailable(claims.iss === undefined ? "no secret signs tokens without iss" : "unknown token issuer"));
    // A time that is not finite would be written as `null`: refuse it rather than sign an unbounded token.
    if ((["iat", "nbf", "exp"] as const).some((c) => claims[c] !== undefined && !Number.isFinite(claims[c]))) return E.left(unavailable("could not sign the token: a time claim is not a finite number"));
    try {
      return E.right(signHs256(key, JSON.stringify(claims)));
    } catch (e) {
      return E.left(unavailable("could not sign the token", e));
    }
  };

  // Both answers are ready before the task is run: no promise is awaited on the way.
  return {
    verify: (token) => TE.fromEither(check(token)),
    issue: (claims) => TE.fromEither(sign(claims)),
  };
};

/** @deprecated Tokens no longer go through jose; use {@link hmacTokenIssuer}, which takes the same options and more. */
export const joseTokenIssuer = hmacTokenIssuer;
/** @deprecated Use {@link HmacTokenIssuerOptions}. */
export type JoseTokenIssuerOptions = HmacTokenIssuerOptions;
