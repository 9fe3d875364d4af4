import { SEARCH_MIGRATION_SQL } from "../search.sql.js";
import type { Migration } from "./migration.js";

/** Search columns and their indexes (see search.sql.ts); rows from before are filled by `backfillSearchColumns`. */
export const search: Migration = { version: 5, name: "search", sql: SEARCH_MIGRATION_SQL };
