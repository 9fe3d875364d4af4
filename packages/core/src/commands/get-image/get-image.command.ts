import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { abilitiesOn, type Ability } from "../../album/ability.policy.js";
import type { Claims } from "../../auth/claims.codec.js";
import type { Image } from "../../image/image.js";
import type { ImageRepository } from "../../ports/image-repository.port.js";
import type { Forbidden, NotFound, Unavailable } from "../../shared/errors.js";
import { findAuthorized } from "../lookup.js";

export interface ImageWithAccess {
  readonly image: Image;
  /** What the caller may do to this image (the `X-access-*` headers). */
  readonly abilities: ReadonlySet<Ability>;
}

export const getImage =
  (deps: { readonly images: ImageRepository }) =>
  (caller: Claims, id: string): TE.TaskEither<NotFound | Forbidden | Unavailable, ImageWithAccess> =>
    pipe(
      findAuthorized(deps.images)(caller, id, "image_list"),
      TE.map((image) => ({ image, abilities: abilitiesOn(caller, image.albumId) })),
    );
