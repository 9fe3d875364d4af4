import * as t from "io-ts";

/** `{"<album_id>": {"Access": {"image_duplicate": true}}}`: only a literal `true` grants. */
export const AbilitiesCodec = t.record(t.string, t.partial({ Access: t.record(t.string, t.unknown) }));

/**
 * Claims of an album-scoped token. Unknown claims are kept (`t.type` does not strip on decode), so a
 * re-issued token carries everything the caller's had.
 */
export const ClaimsCodec = t.intersection([
  t.type({ exp: t.number }),
  t.partial({ iat: t.number, user_id: t.string, iss: t.string, abilities: AbilitiesCodec }),
]);
export type Claims = t.TypeOf<typeof ClaimsCodec>;

/** Lifetime of a re-issued token, as in the family's examples (exp - iat = 14400). */
export const TOKEN_TTL_SECONDS = 4 * 60 * 60;

/** The claims of the `X-token` sent back: fresh `iat`, `exp` four hours on but never sooner than the caller's. */
export const refreshClaims = (claims: Claims, now: Date): Claims => {
  const iat = Math.floor(now.getTime() / 1000);
  return { ...claims, iat, exp: Math.max(claims.exp, iat + TOKEN_TTL_SECONDS) };
};
