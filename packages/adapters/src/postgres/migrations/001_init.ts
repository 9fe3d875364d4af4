import type { Migration } from "./migration.js";

/**
 * `json` rather than `jsonb` for infos/exifs/metadatas: they are returned to clients as stored, and
 * jsonb would reorder their keys. Nothing queries inside them.
 */
export const init: Migration = {
  version: 1,
  name: "init",
  sql: `
CREATE TABLE blobs (
  key          text PRIMARY KEY,
  refs         integer NOT NULL CHECK (refs >= 0),
  format       text NOT NULL,
  content_type text NOT NULL,
  bytes        bigint NOT NULL,
  etag         text NOT NULL,
  version      bigint NOT NULL
);
CREATE INDEX blobs_orphaned_idx ON blobs (key) WHERE refs = 0;

CREATE TABLE images (
  id               uuid PRIMARY KEY,
  album_id         text NOT NULL,
  group_id         uuid,
  blob_key         text NOT NULL REFERENCES blobs (key),
  original_width   integer NOT NULL,
  original_height  integer NOT NULL,
  filename         text NOT NULL,
  infos            json NOT NULL,
  exifs            json NOT NULL,
  metadatas        json NOT NULL,
  gps_html         float8[] CHECK (cardinality(gps_html) = 2),
  gps_ip           float8[] CHECK (cardinality(gps_ip) = 2),
  gps_exifs        float8[] CHECK (cardinality(gps_exifs) = 2),
  taken_at         timestamptz(3),
  title            text,
  description      text,
  rotation         integer NOT NULL CHECK (rotation IN (0, 90, 180, 270)),
  crop_x           float8,
  crop_y           float8,
  crop_w           float8,
  crop_h           float8,
  color            text NOT NULL,
  processed        boolean NOT NULL,
  processing_error text,
  created_at       timestamptz(3) NOT NULL,
  updated_at       timestamptz(3) NOT NULL,
  version          integer NOT NULL CHECK (version >= 1),
  CONSTRAINT images_crop_whole CHECK (num_nulls(crop_x, crop_y, crop_w, crop_h) IN (0, 4))
);
CREATE INDEX images_album_listing_idx ON images (album_id, created_at DESC, id DESC);
CREATE INDEX images_blob_key_idx ON images (blob_key);
`,
};
