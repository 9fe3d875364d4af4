import { inject } from "vitest";
import { isCi } from "./availability.js";
import type { S3Connection } from "./s3-connection.js";
import "./provided-context.js";

// A test file run without the workspace's global setup gets nothing injected; under
// CI that is a misconfiguration, not a reason to skip.
const orSkip = <A>(value: A | null | undefined, service: string): A | undefined => {
  if (value != null) return value;
  if (isCi()) throw new Error(`CI=true but no ${service} was provided to this test run`);
  return undefined;
};

/** The run's Postgres (database `test`), or undefined when its tests should skip. */
export const testDatabaseUrl = (): string | undefined => orSkip(inject("databaseUrl"), "Postgres");

/** The run's S3 bucket (path-style addressing), or undefined when its tests should skip. */
export const testS3 = (): S3Connection | undefined => orSkip(inject("s3"), "S3 server");
