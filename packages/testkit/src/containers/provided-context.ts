import type { S3Connection } from "./s3-connection.js";

// What the global setup hands to test files through `inject`.
declare module "vitest" {
  export interface ProvidedContext {
    /** The run's Postgres, or null when none is available and its tests skip. */
    databaseUrl: string | null;
    /** The run's S3 bucket, or null when none is available and its tests skip. */
    s3: S3Connection | null;
  }
}
