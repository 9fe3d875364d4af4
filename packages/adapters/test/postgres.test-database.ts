import { assertTestDatabase, testDatabaseUrl as providedDatabaseUrl } from "@image-api/testkit";
import pg from "pg";

/**
 * The server Postgres the pg tests run against, or undefined to skip them: the run's (a container, or
 * IMAGE_API_TEST_DATABASE_URL, chosen by the global setup), else the variable itself when a file runs
 * without that setup. The tests create and drop schemas, so a database not named for tests is refused.
 */
export const testDatabaseUrl = (): string | undefined => {
  const url = providedDatabaseUrl() ?? process.env["IMAGE_API_TEST_DATABASE_URL"];
  return url ? assertTestDatabase(url) : undefined;
};

const admin = async <A>(url: string, fn: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
};

export interface TestSchema {
  readonly name: string;
  readonly drop: () => Promise<void>;
}

/** An empty schema of its own, so test files running in parallel against one database never meet. */
export const createTestSchema = async (url: string, prefix: string): Promise<TestSchema> => {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await admin(url, (c) => c.query(`CREATE SCHEMA ${name}`));
  return { name, drop: () => admin(url, (c) => c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)).then(() => undefined) };
};

/** Ends the server sessions opened with `application_name`, as a restart or a network cut would. */
export const terminateSessions = (url: string, applicationName: string): Promise<number> =>
  admin(url, async (c) => {
    const result = await c.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
      [applicationName],
    );
    return result.rowCount ?? 0;
  });
