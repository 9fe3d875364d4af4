import { init } from "./001_init.js";
import { blobReservations } from "./002_blob_reservations.js";
import { tenants } from "./003_tenants.js";
import { idempotencyKeys } from "./004_idempotency_keys.js";
import { search } from "./005_search.js";
import { blobHolds } from "./006_blob_holds.js";
import type { Migration } from "./migration.js";

export type { Migration } from "./migration.js";

/** Append only: a released migration is never edited, a change is a new version. */
export const MIGRATIONS: readonly Migration[] = [init, blobReservations, tenants, idempotencyKeys, search, blobHolds];
