// Every adapter. A host that wants only the backends it is configured with imports their entries
// (`@image-api/adapters/s3`, `…/postgres/pg`, …) instead: the S3 and Cloudinary SDKs, the pg driver and
// PGlite each cost the process memory and start time when loaded.
export * from "./s3/index.js";
export * from "./routing/index.js";
export * from "./memory/index.js";
export * from "./postgres/index.js";
export { createPgPoolClient, type PgPoolClientOptions } from "./postgres/pg-pool.sql-client.js";
export { createPgliteClient, type PgliteClientOptions } from "./postgres/pglite.sql-client.js";
export * from "./filesystem/index.js";
export * from "./hmac/index.js";
export * from "./jwt/index.js";
export * from "./sharp/index.js";
export * from "./cloudinary/index.js";
