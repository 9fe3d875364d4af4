import { SEARCH_COLUMN_NAMES, searchColumns } from "./search.sql.js";
import type { AlbumId, BlobKey, BlobRef, Image, ImageId, JsonObject, LatLon, Rotation, TenantId } from "@image-api/core";

/** A stored image joined with its blob. Numbers from bigint columns arrive as strings (pg) or numbers (PGlite). */
export interface ImageRow {
  [column: string]: unknown;
  id: string;
  tenant: string;
  created_by: string | null;
  album_id: string;
  group_id: string | null;
  original_width: number;
  original_height: number;
  filename: string;
  infos: JsonObject;
  exifs: JsonObject;
  metadatas: JsonObject;
  gps_html: number[] | null;
  gps_ip: number[] | null;
  gps_exifs: number[] | null;
  taken_at: Date | null;
  title: string | null;
  description: string | null;
  rotation: number;
  crop_x: number | null;
  crop_y: number | null;
  crop_w: number | null;
  crop_h: number | null;
  color: string;
  processed: boolean;
  processing_error: string | null;
  created_at: Date;
  updated_at: Date;
  version: number;
  blob_key: string;
  blob_format: string;
  blob_content_type: string;
  blob_bytes: string | number;
  blob_etag: string;
  blob_version: string | number;
}

export type BlobRow = Pick<ImageRow, "blob_key" | "blob_format" | "blob_content_type" | "blob_bytes" | "blob_etag" | "blob_version">;

/** The image's columns in insert order, `blob_key` last: a copy takes it from its source's row. */
const IMAGE_COLUMN_NAMES = [
  "id",
  "tenant",
  "created_by",
  "album_id",
  "group_id",
  "original_width",
  "original_height",
  "filename",
  "infos",
  "exifs",
  "metadatas",
  "gps_html",
  "gps_ip",
  "gps_exifs",
  "taken_at",
  "title",
  "description",
  "rotation",
  "crop_x",
  "crop_y",
  "crop_w",
  "crop_h",
  "color",
  "processed",
  "processing_error",
  "created_at",
  "updated_at",
  "version",
  "blob_key",
] as const;

/** The image's columns, qualified by `alias`. */
export const imageColumns = (alias: string): string => IMAGE_COLUMN_NAMES.map((c) => `${alias}.${c}`).join(", ");

export const blobColumns = (alias: string): string =>
  `${alias}.format AS blob_format, ${alias}.content_type AS blob_content_type, ${alias}.bytes AS blob_bytes, ` +
  `${alias}.etag AS blob_etag, ${alias}.version AS blob_version`;

/** Parameter placeholders for the columns before `blob_key`, numbered from `first`. */
const ownPlaceholders = (first: number): string =>
  IMAGE_COLUMN_NAMES.slice(0, -1)
    .map((_, i) => `$${first + i}`)
    .join(", ");

/** What an insert writes: the image's columns, then the search columns derived from them. */
const INSERT_COLUMNS = [...IMAGE_COLUMN_NAMES, ...SEARCH_COLUMN_NAMES].join(", ");
const N = IMAGE_COLUMN_NAMES.length;
const searchPlaceholders = (first: number): string => SEARCH_COLUMN_NAMES.map((_, i) => `$${first + i}`).join(", ");

/** Parameters: `imageParams(image)`. */
export const INSERT_IMAGE = `INSERT INTO images (${INSERT_COLUMNS})
  VALUES (${ownPlaceholders(1)}, $${N}, ${searchPlaceholders(N + 1)})`;

/**
 * A copy in one statement, with `copyParams(sourceId, copy)`: holds the source row (FOR KEY SHARE, which
 * a delete waits for) so it cannot go meanwhile, and inserts the copy on the source's blob, whose row
 * only gets the foreign key's share lock. No row comes back when the source is gone.
 */
const COPY_SOURCE = `WITH source AS (SELECT blob_key FROM images WHERE id = $1 AND tenant = $3 FOR KEY SHARE)`;
const COPY_ROW = `INSERT INTO images (${INSERT_COLUMNS})
  SELECT ${ownPlaceholders(2)}, source.blob_key, ${searchPlaceholders(N + 1)} FROM source
  RETURNING id`;
export const INSERT_COPY = `${COPY_SOURCE}
  ${COPY_ROW}`;

/**
 * INSERT_COPY that also completes an idempotency key, in the same statement, and only when the copy
 * is made. Parameters: `[...copyParams(sourceId, copy), ...completionParams(completion)]`.
 */
const AFTER_COPY = N + 1 + SEARCH_COLUMN_NAMES.length;
export const INSERT_COPY_COMPLETING = `${COPY_SOURCE},
  copy AS (${COPY_ROW}),
  done AS (UPDATE idempotency_keys SET status = $${AFTER_COPY}, body = $${AFTER_COPY + 1}
    WHERE tenant = $${AFTER_COPY + 2} AND user_id = $${AFTER_COPY + 3} AND key = $${AFTER_COPY + 4} AND EXISTS (SELECT 1 FROM copy))
  SELECT id FROM copy`;

/** How a one-step duplicate fills each column from its source row `s`; parameters as in `duplicateParams`. */
const DUPLICATE_VALUES: Partial<Record<(typeof IMAGE_COLUMN_NAMES)[number], string>> = {
  id: "$3",
  created_by: "$4",
  group_id: "COALESCE(s.group_id, s.id)",
  created_at: "$5",
  updated_at: "$5",
  version: "1",
};

/**
 * The duplicate in one statement: reads the source only if it belongs to the tenant and lies in the
 * albums allowed ($6, or any when NULL), holds it (FOR KEY SHARE) and inserts the copy, with the source's
 * search columns, returning the copy joined with its blob. No row: refused or not found.
 */
export const DUPLICATE = `WITH s AS (
    SELECT * FROM images WHERE id = $1 AND tenant = $2 AND ($6::text[] IS NULL OR album_id = ANY($6::text[])) FOR KEY SHARE),
  c AS (INSERT INTO images (${INSERT_COLUMNS})
    SELECT ${[...IMAGE_COLUMN_NAMES, ...SEARCH_COLUMN_NAMES].map((col) => DUPLICATE_VALUES[col as keyof typeof DUPLICATE_VALUES] ?? `s.${col}`).join(", ")} FROM s
    RETURNING ${IMAGE_COLUMN_NAMES.join(", ")})
  SELECT ${imageColumns("c")}, ${blobColumns("b")} FROM c JOIN blobs b ON b.key = c.blob_key`;

export const duplicateParams = (tenant: TenantId, sourceId: ImageId, albums: readonly string[] | null, copy: { id: ImageId; createdBy: string | null; createdAt: Date }): unknown[] => [
  sourceId,
  tenant,
  copy.id,
  copy.createdBy,
  copy.createdAt,
  albums,
];

/** What an edit changes: title, description, rotation and crop, in the columns' order. */
export const editParams = (image: Image): unknown[] => [
  image.title,
  image.description,
  image.rotation,
  image.crop?.x ?? null,
  image.crop?.y ?? null,
  image.crop?.w ?? null,
  image.crop?.h ?? null,
];

/** Values of the columns before `blob_key`, in order. */
const ownParams = (image: Image): unknown[] => [
  image.id,
  image.tenant,
  image.createdBy,
  image.albumId,
  image.groupId,
  image.originalWidth,
  image.originalHeight,
  image.filename,
  // Serialized here so both drivers send the same text for the json columns.
  JSON.stringify(image.infos),
  JSON.stringify(image.exifs),
  JSON.stringify(image.metadatas),
  image.gpsHtml ? [...image.gpsHtml] : null,
  image.gpsIp ? [...image.gpsIp] : null,
  image.gpsExifs ? [...image.gpsExifs] : null,
  image.takenAt,
  ...editParams(image),
  image.color,
  image.processed,
  image.processingError,
  image.createdAt,
  image.updatedAt,
  image.version,
];

export const imageParams = (image: Image): unknown[] => [...ownParams(image), image.blob.key, ...searchColumns(image)];

/** The copy's own blob is ignored: it shares its source's. */
export const copyParams = (sourceId: ImageId, copy: Image): unknown[] => [sourceId, ...ownParams(copy), ...searchColumns(copy)];

export const blobParams = (blob: BlobRef): unknown[] => [blob.key, blob.format, blob.contentType, blob.bytes, blob.etag, blob.version];

const latLon = (v: readonly number[] | null): LatLon | null =>
  v === null || v[0] === undefined || v[1] === undefined ? null : [Number(v[0]), Number(v[1])];

export const toImage = (row: ImageRow): Image => ({
  id: row.id as ImageId,
  tenant: row.tenant as TenantId,
  createdBy: row.created_by,
  albumId: row.album_id as AlbumId,
  groupId: row.group_id as ImageId | null,
  blob: {
    key: row.blob_key as BlobKey,
    format: row.blob_format,
    contentType: row.blob_content_type,
    bytes: Number(row.blob_bytes),
    etag: row.blob_etag,
    version: Number(row.blob_version),
  },
  originalWidth: row.original_width,
  originalHeight: row.original_height,
  filename: row.filename,
  infos: row.infos,
  exifs: row.exifs,
  metadatas: row.metadatas,
  gpsHtml: latLon(row.gps_html),
  gpsIp: latLon(row.gps_ip),
  gpsExifs: latLon(row.gps_exifs),
  takenAt: row.taken_at,
  title: row.title,
  description: row.description,
  rotation: row.rotation as Rotation,
  crop:
    row.crop_x === null || row.crop_y === null || row.crop_w === null || row.crop_h === null
      ? null
      : { x: row.crop_x, y: row.crop_y, w: row.crop_w, h: row.crop_h },
  color: row.color,
  processed: row.processed,
  processingError: row.processing_error,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  version: row.version,
});
