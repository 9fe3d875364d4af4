import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import type { Claims } from "../../auth/claims.codec.js";
import { duplicateOf, type Image } from "../../image/image.js";
import type { Clock } from "../../ports/clock.port.js";
import type { IdGenerator } from "../../ports/id-generator.port.js";
import type { Completion } from "../../ports/idempotency.port.js";
import { completionOf } from "../idempotent/idempotent.js";
import type { ImageRepository } from "../../ports/image-repository.port.js";
import { authorize, scopeOf } from "../../album/ability.policy.js";
import { tenantOf } from "../../auth/claims.codec.js";
import { imageNotFound, invalidField, type Conflict, type Forbidden, type Invalid, type NotFound, type Unavailable } from "../../shared/errors.js";
import { AlbumId, ImageId } from "../../shared/ids.js";
import { findAuthorized } from "../lookup.js";

export interface DuplicateImageDeps {
  readonly images: ImageRepository;
  readonly ids: IdGenerator;
  readonly clock: Clock;
}

export type DuplicateImageError = NotFound | Forbidden | Invalid | Conflict | Unavailable;

export interface DuplicateOptions {
  /** Another album of the tenant for the copy; it needs `image_upload` there. The source's album when absent. */
  readonly albumId?: string | undefined;
  /** The answer to store with the copy (an Idempotency-Key's replay), given the copy. */
  readonly complete?: ((copy: Image) => Promise<Completion>) | undefined;
}

/**
 * Copies an image, into its own album or another of the tenant. Only the row is new: the copy shares
 * the source's immutable blob, so the cost does not depend on the image's size.
 */
export const duplicateImage =
  (deps: DuplicateImageDeps) =>
  (caller: Claims, sourceId: string, options: DuplicateOptions = {}): TE.TaskEither<DuplicateImageError, Image> => {
    const to = options.albumId;
    if (to !== undefined && !AlbumId.is(to)) return TE.left(invalidField("album_id", "must be an album id"));
    if (!ImageId.is(sourceId)) return TE.left(imageNotFound(sourceId));
    // The common case, a copy in the source's album with no answer to store, is one step of the
    // repository: it reads, authorises and inserts at once.
    if (to === undefined && options.complete === undefined)
      return deps.images.duplicate(tenantOf(caller), sourceId, scopeOf(caller, "image_duplicate"), {
        id: deps.ids.uuid() as ImageId,
        createdBy: caller.user_id ?? null,
        createdAt: deps.clock.now(),
      });
    return pipe(
      findAuthorized(deps.images)(caller, sourceId, "image_duplicate"),
      // A copy in the source's own album is what image_duplicate grants; another album also needs image_upload there.
      TE.chainFirstEitherKW((source) => (to === undefined || to === source.albumId ? E.right(undefined) : authorize(caller, to, "image_upload"))),
      TE.chainW((source) => {
        const copy = duplicateOf(source, deps.ids.uuid() as ImageId, deps.clock.now(), caller.user_id ?? null, to);
        return pipe(
          completionOf(options.complete, copy),
          TE.chainW((completion) => deps.images.insertCopy(source.id, copy, completion)),
          TE.map(() => copy),
        );
      }),
    );
  };
