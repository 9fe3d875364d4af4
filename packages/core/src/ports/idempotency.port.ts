import type { TaskEither } from "fp-ts/lib/TaskEither.js";
import type { Unavailable } from "../shared/errors.js";
import type { TenantId } from "../shared/ids.js";

/** A client-chosen key, scoped to the tenant and the caller's `user_id` ('' when the token has none). */
export interface IdempotencyKey {
  readonly tenant: TenantId;
  readonly userId: string;
  readonly key: string;
}

/** The answer a retry gets back: the status and the exact body of the first request. */
export interface StoredResponse {
  readonly status: number;
  /** JSON text, or null for an answer without a body (204). */
  readonly body: string | null;
}

/** Written by the repository in the same transaction as the effect, so the answer exists exactly when the effect does. */
export interface Completion extends StoredResponse {
  readonly key: IdempotencyKey;
}

export type Claim =
  /** The caller runs the request and completes the key with its effect. */
  | { readonly _tag: "Claimed" }
  /** The request already happened: answer this. */
  | { readonly _tag: "Done"; readonly response: StoredResponse }
  /** The first request with this key is still running. */
  | { readonly _tag: "Running" }
  /** The key was used for another request. */
  | { readonly _tag: "Mismatch" };

export interface IdempotencyStore {
  /**
   * Claims `key` for the request whose fingerprint is given. A record made before `expiredBefore` is
   * forgotten; a record still running since before `abandonedBefore` belongs to a request that died
   * (its effect never committed, since the completion commits with it), so it is taken over.
   */
  readonly claim: (
    key: IdempotencyKey,
    fingerprint: string,
    at: Date,
    limits: { readonly expiredBefore: Date; readonly abandonedBefore: Date },
  ) => TaskEither<Unavailable, Claim>;
  /** Gives a claimed key back after a request that changed nothing, so a retry runs again. */
  readonly release: (key: IdempotencyKey) => TaskEither<Unavailable, void>;
  /** Forgets records made before `expiredBefore`; returns how many. */
  readonly sweep: (expiredBefore: Date) => TaskEither<Unavailable, number>;
}
