import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import type { Claims } from "../../auth/claims.codec.js";
import { duplicateOf, type Image } from "../../image/image.js";
import type { Clock } from "../../ports/clock.port.js";
import type { IdGenerator } from "../../ports/id-generator.port.js";
import type { ImageRepository } from "../../ports/image-repository.port.js";
import type { Conflict, Forbidden, NotFound, Unavailable } from "../../shared/errors.js";
import type { ImageId } from "../../shared/ids.js";
import { findAuthorized } from "../lookup.js";

export interface DuplicateImageDeps {
  readonly images: ImageRepository;
  readonly ids: IdGenerator;
  readonly clock: Clock;
}

export type DuplicateImageError = NotFound | Forbidden | Conflict | Unavailable;

/**
 * Copies an image within its album. Only the row is new: the copy shares the source's immutable blob,
 * so the cost does not depend on the image's size.
 */
export const duplicateImage =
  (deps: DuplicateImageDeps) =>
  (caller: Claims, sourceId: string): TE.TaskEither<DuplicateImageError, Image> =>
    pipe(
      findAuthorized(deps.images)(caller, sourceId, "image_duplicate"),
      TE.chainW((source) => {
        const copy = duplicateOf(source, deps.ids.uuid() as ImageId, deps.clock.now(), caller.user_id ?? null);
        return pipe(
          deps.images.insertCopy(source.id, copy),
          TE.map(() => copy),
        );
      }),
    );
