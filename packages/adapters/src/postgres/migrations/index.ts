import { init } from "./001_init.js";
import { blobReservations } from "./002_blob_reservations.js";
import { tenants } from "./003_tenants.js";
import type { Migration } from "./migration.js";

export type { Migration } from "./migration.js";

/** Append only: a released migration is never edited, a change is a new version. */
export const MIGRATIONS: readonly Migration[] = [init, blobReservations, tenants];
