import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import type { Clock } from "../../ports/clock.port.js";
import type { Completion, IdempotencyKey, IdempotencyStore, StoredResponse } from "../../ports/idempotency.port.js";
import { conflict, invalidField, type Conflict, type DomainError, type Invalid, type Unavailable } from "../../shared/errors.js";

/** How long a key replays its first answer. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** A key still running after this long belongs to a request that died; longer than any request may take. */
export const IDEMPOTENCY_LEASE_MS = 10 * 60 * 1000;

/** 1–255 printable ASCII characters, as the header carries them. */
export const isIdempotencyKey = (s: string): boolean => /^[\x20-\x7e]{1,255}$/.test(s);

export type Idempotent<A> = { readonly _tag: "Fresh"; readonly value: A } | { readonly _tag: "Replayed"; readonly response: StoredResponse };

/** The completion a command hands to its repository call, given what the request answers. */
export type Complete = (response: StoredResponse) => Completion;

/**
 * Runs `effect` once per key: the first request claims the key and its effect stores the answer in
 * its own transaction (through `complete`); a retry with the same request gets that answer back, one
 * with a different request is refused, and one while the first still runs is a conflict. A request
 * that fails changed nothing, so it gives the key back.
 */
export const idempotent =
  (deps: { readonly idempotency: IdempotencyStore; readonly clock: Clock }) =>
  <E extends DomainError, A>(
    key: IdempotencyKey,
    fingerprint: string,
    effect: (complete: Complete) => TE.TaskEither<E, A>,
  ): TE.TaskEither<E | Invalid | Conflict | Unavailable, Idempotent<A>> => {
    if (!isIdempotencyKey(key.key)) return TE.left(invalidField("Idempotency-Key", "must be 1 to 255 printable ASCII characters"));
    const at = deps.clock.now();
    const limits = { expiredBefore: new Date(at.getTime() - IDEMPOTENCY_TTL_MS), abandonedBefore: new Date(at.getTime() - IDEMPOTENCY_LEASE_MS) };
    return pipe(
      deps.idempotency.claim(key, fingerprint, at, limits),
      TE.chainW((claim): TE.TaskEither<E | Invalid | Conflict | Unavailable, Idempotent<A>> => {
        switch (claim._tag) {
          case "Done":
            return TE.right({ _tag: "Replayed", response: claim.response });
          case "Running":
            return TE.left(conflict("a request with this Idempotency-Key is still in progress; retry later"));
          case "Mismatch":
            return TE.left(invalidField("Idempotency-Key", "was already used for a different request"));
          case "Claimed":
            return pipe(
              effect((response) => ({ key, ...response })),
              TE.map((value) => ({ _tag: "Fresh" as const, value })),
              // An effect whose outcome is in doubt may have committed its completion: keep the key, so a
              // retry replays it, or takes the key over once the lease ran out if it did not.
              TE.orElseW((e) =>
                e._tag === "Unavailable" && (e as Unavailable).inDoubt
                  ? TE.left(e)
                  : pipe(
                      deps.idempotency.release(key),
                      TE.matchE(
                        () => TE.left(e),
                        () => TE.left(e),
                      ),
                    ),
              ),
            );
        }
      }),
    );
  };

/** The completion to store with a write, when the request carries a key. */
export const completionOf = <A>(complete: ((a: A) => Promise<Completion>) | undefined, a: A): TE.TaskEither<never, Completion | undefined> =>
  complete ? TE.fromTask(() => complete(a)) : TE.right(undefined);
