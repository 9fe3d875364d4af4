import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import type { Claims } from "../../auth/claims.codec.js";
import type { ImageRepository } from "../../ports/image-repository.port.js";
import type { Forbidden, NotFound, Unavailable } from "../../shared/errors.js";
import { findAuthorized } from "../lookup.js";

/**
 * The `user_id` of whoever created the image (uploaded or duplicated it), or null when that is not
 * known; it needs `image_list` on the image's album.
 */
export const getImageUser =
  (deps: { readonly images: ImageRepository }) =>
  (caller: Claims, id: string): TE.TaskEither<NotFound | Forbidden | Unavailable, string | null> =>
    pipe(
      findAuthorized(deps.images)(caller, id, "image_list"),
      TE.map((image) => image.createdBy),
    );
