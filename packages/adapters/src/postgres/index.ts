export type { SqlClient, SqlExecutor, SqlResult, SqlRow } from "./sql-client.js";
export { createPgPoolClient, type PgPoolClientOptions } from "./pg-pool.sql-client.js";
export { createPgliteClient, type PgliteClientOptions } from "./pglite.sql-client.js";
export { migrate, MIGRATION_LOCK_KEY } from "./migrate.js";
export { MIGRATIONS, type Migration } from "./migrations/index.js";
export { postgresImageRepository } from "./postgres.image-repository.js";
export { postgresIdempotencyStore } from "./postgres.idempotency-store.js";
export { backfillSearchColumns } from "./search.sql.js";
