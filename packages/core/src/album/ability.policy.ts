import * as E from "fp-ts/lib/Either.js";
import { isSearchToken, type Claims } from "../auth/claims.codec.js";
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

const own = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

/** What a search token's `q` claim covers: `"*"` is the whole tenant, anything else one album. */
export const searchTokenCovers = (q: string, albumId: string): boolean => q === "*" || q === albumId;

/**
 * Album ids are compared exactly; an ability granted on another album grants nothing here. A search
 * token grants an ability through its top-level flag (a literal `true`), on the albums its `q` covers.
 */
export const can = (claims: Claims, albumId: string, ability: Ability): boolean => {
  if (isSearchToken(claims)) {
    const flags = claims as Record<string, unknown>;
    if (searchTokenCovers(claims.q, albumId) && own(flags, ability) && flags[ability] === true) return true;
  }
  const album = claims.abilities && own(claims.abilities, albumId) ? claims.abilities[albumId] : undefined;
  const access = album?.Access;
  return access !== undefined && own(access, ability) && access[ability] === true;
};

/** The albums a user token names with `ability`, in claim order. */
export const albumsWith = (claims: Claims, ability: Ability): string[] =>
  claims.abilities ? Object.keys(claims.abilities).filter((album) => can(claims, album, ability)) : [];

export const authorize = (claims: Claims, albumId: string, ability: Ability): E.Either<Forbidden, void> =>
  can(claims, albumId, ability) ? E.right(undefined) : E.left(forbidden(`token lacks ${ability} on album ${albumId}`));

/** Allowed when the caller holds any one of the abilities (a no-op update needs one right among those it names). */
export const authorizeAny = (claims: Claims, albumId: string, abilities: readonly Ability[]): E.Either<Forbidden, void> =>
  abilities.some((a) => can(claims, albumId, a))
    ? E.right(undefined)
    : E.left(forbidden(`token lacks ${abilities.join(" or ")} on album ${albumId}`));

export const abilitiesOn = (claims: Claims, albumId: string): ReadonlySet<Ability> =>
  new Set(ABILITIES.filter((a) => can(claims, albumId, a)));

/** Where a caller may do something within its tenant: everywhere, or in these albums only. */
export type AlbumScope = { readonly kind: "tenant" } | { readonly kind: "albums"; readonly albums: readonly string[] };

export const inScope = (scope: AlbumScope, albumId: string): boolean => scope.kind === "tenant" || scope.albums.includes(albumId);

/** The albums `ability` is granted on: a search token's `q` when its flag is set, plus its named albums. */
export const scopeOf = (claims: Claims, ability: Ability): AlbumScope => {
  const named = albumsWith(claims, ability);
  if (!isSearchToken(claims) || (claims as Record<string, unknown>)[ability] !== true) return { kind: "albums", albums: named };
  return claims.q === "*" ? { kind: "tenant" } : { kind: "albums", albums: [...new Set([claims.q, ...named])] };
};
