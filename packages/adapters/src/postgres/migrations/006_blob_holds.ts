import type { Migration } from "./migration.js";

/**
 * `blobs.refs` stops counting copies: a copy's foreign key takes a key-share lock on its blob row,
 * which keeps the blob alive without writing to it (every copy of one image used to update that one
 * row and wait for its lock). `refs` is now 1 while any image holds the blob and 0 once the delete of
 * the last one finds no other reference (or for a reservation); the orphan index still reads `refs = 0`.
 */
export const blobHolds: Migration = {
  version: 6,
  name: "blob_holds",
  sql: `UPDATE blobs SET refs = 1 WHERE refs > 1;
ALTER TABLE blobs ADD CONSTRAINT blobs_refs_held CHECK (refs IN (0, 1));`,
};
