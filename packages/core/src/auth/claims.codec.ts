import * as t from "io-ts";
import { DEFAULT_TENANT, type TenantId } from "../shared/ids.js";

/** `{"<album_id>": {"Access": {"image_duplicate": true}}}`: only a literal `true` grants. */
export const AbilitiesCodec = t.record(t.string, t.partial({ Access: t.record(t.string, t.unknown) }));

/**
 * Claims of an album-scoped token. Unknown claims are kept (`t.type` does not strip on decode), so a
 * re-issued token carries everything the caller's had.
 */
export const ClaimsCodec = t.intersection([
  t.type({ exp: t.number }),
  t.partial({ iat: t.number, nbf: t.number, user_id: t.string, iss: t.string, abilities: AbilitiesCodec, q: t.string }),
]);
export type Claims = t.TypeOf<typeof ClaimsCodec>;

/** The tenant a verified token acts for: its issuer, or the default tenant when it names none. */
export const tenantOf = (claims: Claims): TenantId => (claims.iss ?? DEFAULT_TENANT) as TenantId;

/** Who creates what a token's request stores. */
export interface Owner {
  readonly tenant: TenantId;
  readonly createdBy: string | null;
}
export const ownerOf = (claims: Claims): Owner => ({ tenant: tenantOf(claims), createdBy: claims.user_id ?? null });

/** A search token carries its query (`q`: `"*"` or an album id) and top-level ability flags instead of `abilities`. */
export const isSearchToken = (claims: Claims): claims is Claims & { readonly q: string } => typeof claims.q === "string";

/** Lifetime of a re-issued token, as in the family's examples (exp - iat = 14400). */
export const TOKEN_TTL_SECONDS = 4 * 60 * 60;

/** The claims of the `X-token` sent back: fresh `iat`, `exp` four hours on but never sooner than the caller's. */
export const refreshClaims = (claims: Claims, now: Date): Claims => ({ ...claims, iat: Math.floor(now.getTime() / 1000), exp: refreshedExp(claims, now) });

/** The `exp` refreshClaims gives, without making the claims. */
export const refreshedExp = (claims: Pick<Claims, "exp">, now: Date): number => Math.max(claims.exp, Math.floor(now.getTime() / 1000) + TOKEN_TTL_SECONDS);
