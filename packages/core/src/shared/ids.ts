import * as t from "io-ts";

interface ImageIdBrand {
  readonly ImageId: unique symbol;
}
interface AlbumIdBrand {
  readonly AlbumId: unique symbol;
}
interface BlobKeyBrand {
  readonly BlobKey: unique symbol;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Album ids come from other systems (Salesforce-like ids in the family's examples), so only their charset is fixed. */
const ALBUM = /^[A-Za-z0-9_.:-]{1,128}$/;
const BLOB = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export const ImageId = t.brand(t.string, (s): s is t.Branded<string, ImageIdBrand> => UUID.test(s), "ImageId");
export type ImageId = t.TypeOf<typeof ImageId>;
export const AlbumId = t.brand(t.string, (s): s is t.Branded<string, AlbumIdBrand> => ALBUM.test(s), "AlbumId");
export type AlbumId = t.TypeOf<typeof AlbumId>;
/** Blob keys are chosen by the core (one per upload) and must be safe as a path segment or object key. */
export const BlobKey = t.brand(t.string, (s): s is t.Branded<string, BlobKeyBrand> => BLOB.test(s), "BlobKey");
export type BlobKey = t.TypeOf<typeof BlobKey>;

interface TenantIdBrand {
  readonly TenantId: unique symbol;
}
/**
 * A tenant is a token issuer (`iss`). Tokens without `iss` belong to the default tenant, stored as the
 * empty string, which no configured issuer can be.
 */
export const TenantId = t.brand(t.string, (s): s is t.Branded<string, TenantIdBrand> => s === "" || ALBUM.test(s), "TenantId");
export type TenantId = t.TypeOf<typeof TenantId>;
export const DEFAULT_TENANT = "" as TenantId;
