// The repository and its schema; each driver is an entry of its own (./pg-pool.sql-client, ./pglite.sql-client),
// so a service loads only the one it is configured with.
export type { SqlClient, SqlExecutor, SqlResult, SqlRow } from "./sql-client.js";
export { migrate, MIGRATION_LOCK_KEY } from "./migrate.js";
export { MIGRATIONS, type Migration } from "./migrations/index.js";
export { postgresImageRepository } from "./postgres.image-repository.js";
export { postgresIdempotencyStore } from "./postgres.idempotency-store.js";
export { backfillSearchColumns } from "./search.sql.js";
