import type { Migration } from "./migration.js";

/** A blob row with zero references and a reservation time marks bytes an upload is about to write. */
export const blobReservations: Migration = {
  version: 2,
  name: "blob_reservations",
  sql: `ALTER TABLE blobs ADD COLUMN reserved_at timestamptz(3);`,
};
