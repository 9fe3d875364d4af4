import * as E from "fp-ts/lib/Either.js";
import type { Claims } from "../auth/claims.codec.js";
import { forbidden, type Forbidden } from "../shared/errors.js";

export const ABILITIES = [
  "image_upload",
  "image_list",
  "image_caption",
  "image_rotate",
  "image_crop",
  "image_delete",
  "image_duplicate",
] as const;
export type Ability = (typeof ABILITIES)[number];
export const isAbility = (s: string): s is Ability => (ABILITIES as readonly string[]).includes(s);

/** Album ids are compared exactly; an ability granted on another album grants nothing here. */
export const can = (claims: Claims, albumId: string, ability: Ability): boolean => {
  const album = claims.abilities && Object.prototype.hasOwnProperty.call(claims.abilities, albumId) ? claims.abilities[albumId] : undefined;
  const access = album?.Access;
  return access !== undefined && Object.prototype.hasOwnProperty.call(access, ability) && access[ability] === true;
};

export const authorize = (claims: Claims, albumId: string, ability: Ability): E.Either<Forbidden, void> =>
  can(claims, albumId, ability) ? E.right(undefined) : E.left(forbidden(`token lacks ${ability} on album ${albumId}`));

/** Allowed when the caller holds any one of the abilities (a no-op update needs one right among those it names). */
export const authorizeAny = (claims: Claims, albumId: string, abilities: readonly Ability[]): E.Either<Forbidden, void> =>
  abilities.some((a) => can(claims, albumId, a))
    ? E.right(undefined)
    : E.left(forbidden(`token lacks ${abilities.join(" or ")} on album ${albumId}`));

export const abilitiesOn = (claims: Claims, albumId: string): ReadonlySet<Ability> =>
  new Set(ABILITIES.filter((a) => can(claims, albumId, a)));
