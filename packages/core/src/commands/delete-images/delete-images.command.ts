import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as T from "fp-ts/lib/Task.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { scopeOf } from "../../album/ability.policy.js";
import { tenantOf, type Claims } from "../../auth/claims.codec.js";
import { invalidField, type Forbidden, type Invalid, type Unavailable } from "../../shared/errors.js";
import { ImageId } from "../../shared/ids.js";
import type { Completion } from "../../ports/idempotency.port.js";
import type { Removal } from "../../ports/image-repository.port.js";
import { releaseBlob, type DeleteImageDeps } from "../delete-image/delete-image.command.js";

/** The most images one request may delete or move: one transaction, a bounded lock set. */
export const MAX_BATCH = 500;

/** Checks the size of a batch of ids; a malformed id is an unknown one, and unknown ids are skipped. */
export const batchIds = (field: string, raw: readonly string[]): E.Either<Invalid, readonly ImageId[]> => {
  if (raw.length === 0) return E.left(invalidField(field, "send at least one image id"));
  if (raw.length > MAX_BATCH) return E.left(invalidField(field, `at most ${MAX_BATCH} image ids per request`));
  return E.right([...new Set(raw)].filter(ImageId.is));
};

/** The family answers a batch with the ids it acted on, in the reverse of the order they were sent. */
export const reverseOfRequest = (requested: readonly string[], done: ReadonlySet<string>): string[] =>
  [...new Set(requested)].filter((id) => done.has(id)).reverse();

/**
 * Deletes several images at once: all of them, or none when the caller lacks `image_delete` on the
 * album of any one. Unknown ids are skipped. Bytes left without images go after the commit.
 */
export const deleteImages =
  (deps: DeleteImageDeps) =>
  (caller: Claims, rawIds: readonly string[], complete?: (deleted: string[]) => Completion): TE.TaskEither<Invalid | Forbidden | Unavailable, string[]> => {
    const answer = (removals: readonly Removal[]) => reverseOfRequest(rawIds, new Set(removals.map((r) => r.image.id)));
    return pipe(
      TE.fromEither(batchIds("image_ids", rawIds)),
      TE.chainW((ids) =>
        deps.images.removeAll(tenantOf(caller), ids, scopeOf(caller, "image_delete"), complete && ((removals) => complete(answer(removals)))),
      ),
      TE.chainFirstTaskK((removals) => T.sequenceSeqArray(removals.flatMap((r) => (r.orphanedBlob ? [releaseBlob(deps)(r.orphanedBlob)] : [])))),
      TE.map(answer),
    );
  };
