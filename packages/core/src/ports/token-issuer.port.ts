import type { TaskEither } from "fp-ts/lib/TaskEither.js";
import type { Claims } from "../auth/claims.codec.js";
import type { Unauthenticated, Unavailable } from "../shared/errors.js";

export interface TokenIssuer {
  /** Checks signature, algorithm and expiry, then decodes the claims. */
  readonly verify: (token: string) => TaskEither<Unauthenticated, Claims>;
  /** Signs `claims` exactly as given. */
  readonly issue: (claims: Claims) => TaskEither<Unavailable, string>;
}
