import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import type { Ability } from "../album/ability.policy.js";
import { authorize } from "../album/ability.policy.js";
import { tenantOf, type Claims } from "../auth/claims.codec.js";
import type { Image } from "../image/image.js";
import type { ImageRepository } from "../ports/image-repository.port.js";
import { imageNotFound, type Forbidden, type NotFound, type Unavailable } from "../shared/errors.js";
import { ImageId } from "../shared/ids.js";

/** Loads an image the caller may act on; a malformed id is just an unknown one. */
export const findAuthorized =
  (repo: Pick<ImageRepository, "findById">) =>
  (caller: Claims, rawId: string, ability: Ability): TE.TaskEither<NotFound | Forbidden | Unavailable, Image> =>
    ImageId.is(rawId)
      ? pipe(
          repo.findById(tenantOf(caller), rawId),
          TE.chainFirstW((image) => TE.fromEither(authorize(caller, image.albumId, ability))),
        )
      : TE.left(imageNotFound(rawId));
