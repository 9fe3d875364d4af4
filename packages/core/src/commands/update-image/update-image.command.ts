import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { authorize, authorizeAny, type Ability } from "../../album/ability.policy.js";
import { tenantOf, type Claims } from "../../auth/claims.codec.js";
import { applyChanges, changedAspects, type Image, type ImageChanges } from "../../image/image.js";
import type { Clock } from "../../ports/clock.port.js";
import type { ImageRepository } from "../../ports/image-repository.port.js";
import {
  imageNotFound,
  invalidField,
  type Conflict,
  type Forbidden,
  type Invalid,
  type NotFound,
  type Unavailable,
} from "../../shared/errors.js";
import { ImageId } from "../../shared/ids.js";

export type UpdateImageError = NotFound | Forbidden | Invalid | Conflict | Unavailable;

const ASPECT_ABILITY = { caption: "image_caption", rotation: "image_rotate", crop: "image_crop" } as const;

const sentAbilities = (changes: ImageChanges): Ability[] => [
  ...(changes.title !== undefined || changes.description !== undefined ? [ASPECT_ABILITY.caption] : []),
  ...(changes.rotation !== undefined ? [ASPECT_ABILITY.rotation] : []),
  ...(changes.crop !== undefined ? [ASPECT_ABILITY.crop] : []),
];

/**
 * Each aspect that really changes needs its own ability; a field sent with its current value needs none
 * (the family's crop call re-sends `rotation=0` with only `image_crop`).
 */
const authorizeChange = (caller: Claims, before: Image, after: Image, sent: readonly Ability[]): E.Either<Forbidden, void> => {
  const changed = changedAspects(before, after);
  const needed = (Object.keys(changed) as (keyof typeof changed)[]).filter((k) => changed[k]).map((k) => ASPECT_ABILITY[k]);
  if (needed.length === 0) return authorizeAny(caller, before.albumId, sent);
  return pipe(
    needed.map((a) => authorize(caller, before.albumId, a)),
    E.sequenceArray,
    E.map(() => undefined),
  );
};

/**
 * An edit reads the image, applies the change and writes it only if no one wrote in between (its
 * version). A lost race means another edit went through, so with n edits of one image at once none
 * needs more than n attempts, and each costs two short statements. Past this many concurrent edits of
 * the same image an edit is told 409 (retry) rather than keep its request waiting.
 */
const MAX_ATTEMPTS = 64;

export const updateImage =
  (deps: { readonly images: ImageRepository; readonly clock: Clock }) =>
  (caller: Claims, id: string, changes: ImageChanges): TE.TaskEither<UpdateImageError, Image> => {
    if (!ImageId.is(id)) return TE.left(imageNotFound(id));
    const sent = sentAbilities(changes);
    if (sent.length === 0) return TE.left(invalidField("body", "nothing to update: send title, description, rotation or crop_*"));
    // Changes are absolute values, so re-applying them to a newer version after a lost race is safe.
    const attempt = (left: number): TE.TaskEither<UpdateImageError, Image> =>
      pipe(
        deps.images.findById(tenantOf(caller), id),
        TE.chainFirstW((image) => TE.fromEither(authorizeAny(caller, image.albumId, sent))),
        TE.chainW((image) =>
          pipe(
            TE.fromEither(applyChanges(image, changes, deps.clock.now())),
            TE.chainFirstW((next) => TE.fromEither(authorizeChange(caller, image, next, sent))),
            TE.chainW((next) => deps.images.update(next, image.version)),
          ),
        ),
        TE.orElse((e) => (e._tag === "Conflict" && left > 1 ? attempt(left - 1) : TE.left(e))),
      );
    return attempt(MAX_ATTEMPTS);
  };
