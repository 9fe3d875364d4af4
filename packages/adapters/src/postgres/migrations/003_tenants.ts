import type { Migration } from "./migration.js";

/**
 * Every image belongs to a tenant (its creator's token issuer; '' is the default tenant, which owns
 * every row written before tenants existed) and records who created it (unknown for those rows).
 * Lookups by id go through the primary key and then check the tenant; the listing index starts with it.
 */
export const tenants: Migration = {
  version: 3,
  name: "tenants",
  sql: `
ALTER TABLE images ADD COLUMN tenant text NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN created_by text;
DROP INDEX images_album_listing_idx;
CREATE INDEX images_album_listing_idx ON images (tenant, album_id, created_at DESC, id DESC);
`,
};
