import { webcrypto } from "node:crypto";
import { ClaimsCodec, unauthenticated, unavailable, type Claims, type TokenIssuer, type Unauthenticated } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { errors, jwtVerify, SignJWT } from "jose";

export interface JoseTokenIssuerOptions {
  /** The shared HS256 secret. */
  readonly secret: string;
  /** Accepted clock skew between the token's issuer and this host. */
  readonly clockToleranceSeconds?: number;
  /** This host's clock, which `exp` and `iat` are checked against; the system clock by default. */
  readonly now?: () => Date;
}

/** The family's header, key order included, so re-issued tokens look like the ones callers send. */
const HEADER = { typ: "JWT", alg: "HS256" } as const;

const reason = (e: unknown): string => {
  if (e instanceof errors.JWTExpired) return "token expired";
  if (e instanceof errors.JWSSignatureVerificationFailed) return "invalid token signature";
  if (e instanceof errors.JOSEAlgNotAllowed) return "token algorithm not allowed";
  if (e instanceof errors.JWTClaimValidationFailed) return e.claim === "exp" && e.reason === "missing" ? "token has no exp claim" : `invalid token claim ${e.claim}`;
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return "malformed token";
  return "invalid token";
};

/** HS256 JWTs with jose: the algorithm is pinned and `exp` is required, so `alg: none` and unbounded tokens are refused. */
export const joseTokenIssuer = ({ secret, clockToleranceSeconds = 30, now = () => new Date() }: JoseTokenIssuerOptions): TokenIssuer => {
  if (secret.length === 0) throw new Error("joseTokenIssuer needs a non-empty secret");
  // Imported once and reused: given the raw bytes, jose would import them again on every call, and
  // the host verifies and signs a token on every request.
  let imported: Promise<webcrypto.CryptoKey> | undefined;
  const key = () =>
    (imported ??= webcrypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]));

  const verify = (token: string): TE.TaskEither<Unauthenticated, Claims> => {
    const at = now();
    return pipe(
      TE.tryCatch(
        async () => jwtVerify(token, await key(), { algorithms: ["HS256"], requiredClaims: ["exp"], clockTolerance: clockToleranceSeconds, currentDate: at }),
        (e) => unauthenticated(reason(e)),
      ),
      TE.chainEitherK(({ payload }) =>
        pipe(
          ClaimsCodec.decode(payload),
          E.mapLeft(() => unauthenticated("invalid token claims")),
          // jose checks `iat` against the clock only together with a maximum token age, which the family does not set.
          E.filterOrElse(
            (claims) => claims.iat === undefined || claims.iat <= at.getTime() / 1000 + clockToleranceSeconds,
            () => unauthenticated("token issued in the future"),
          ),
        ),
      ),
    );
  };

  const issue = (claims: Claims) =>
    TE.tryCatch(
      async () => new SignJWT(claims).setProtectedHeader(HEADER).sign(await key()),
      (e) => unavailable("could not sign the token", e),
    );

  return { verify, issue };
};
