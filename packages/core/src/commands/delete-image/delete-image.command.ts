import { pipe } from "fp-ts/lib/function.js";
import * as T from "fp-ts/lib/Task.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import type { Claims } from "../../auth/claims.codec.js";
import type { Image } from "../../image/image.js";
import type { BlobStore } from "../../ports/blob-store.port.js";
import type { Clock } from "../../ports/clock.port.js";
import type { Completion } from "../../ports/idempotency.port.js";
import type { ImageRepository } from "../../ports/image-repository.port.js";
import type { Forbidden, NotFound, Unavailable } from "../../shared/errors.js";
import type { BlobKey } from "../../shared/ids.js";
import { findAuthorized } from "../lookup.js";

export interface DeleteImageDeps {
  readonly images: ImageRepository;
  readonly blobs: BlobStore;
}

/**
 * Drops the blob's bytes once no image references them. A failure here is not the caller's: the image
 * is already gone, and the zero-reference record stays for `releaseOrphanedBlobs` to retry.
 */
export const releaseBlob =
  (deps: DeleteImageDeps) =>
  (key: BlobKey): T.Task<boolean> =>
    pipe(
      deps.blobs.delete(key),
      TE.chainW(() => deps.images.releaseBlob(key)),
      TE.match(
        () => false,
        () => true,
      ),
    );

export const deleteImage =
  (deps: DeleteImageDeps) =>
  (caller: Claims, id: string, completion?: Completion): TE.TaskEither<NotFound | Forbidden | Unavailable, Image> =>
    pipe(
      findAuthorized(deps.images)(caller, id, "image_delete"),
      TE.chainW((image) => deps.images.remove(image.tenant, image.id, completion)),
      TE.chainFirstTaskK((removal) => (removal.orphanedBlob ? releaseBlob(deps)(removal.orphanedBlob) : T.of(true))),
      TE.map((removal) => removal.image),
    );

/** How long an upload may take between reserving its blob and inserting its image. */
export const RESERVATION_GRACE_MS = 60 * 60 * 1000;

/**
 * Retries blob deletions left behind by a crash or an outage, and removes the bytes of uploads that
 * reserved a blob but never finished; returns how many were released.
 */
export const releaseOrphanedBlobs = (deps: DeleteImageDeps & { readonly clock: Clock }): TE.TaskEither<Unavailable, number> =>
  pipe(
    deps.images.orphanedBlobs(new Date(deps.clock.now().getTime() - RESERVATION_GRACE_MS)),
    TE.chainTaskK((keys) => T.sequenceSeqArray(keys.map(releaseBlob(deps)))),
    TE.map((done) => done.filter(Boolean).length),
  );
