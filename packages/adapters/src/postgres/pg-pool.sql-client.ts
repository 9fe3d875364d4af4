import pg from "pg";
import type { SqlClient, SqlExecutor, SqlResult, SqlRow } from "./sql-client.js";

export interface PgPoolClientOptions {
  readonly connectionString: string;
  /** Pool size; default 10. */
  readonly max?: number;
  /** Schema to use as `search_path` (must exist); lets several deployments or test runs share a database. */
  readonly schema?: string;
  /** How long a query may wait for a free connection before failing; default 5000 ms (0 would wait forever). */
  readonly connectionTimeoutMillis?: number;
  /**
   * Errors of idle connections (server restart, network cut). The pool drops the connection and the next
   * query reports its own failure, so by default they are ignored rather than crashing the process.
   */
  readonly onIdleError?: (error: Error) => void;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

const executor = (target: pg.Pool | pg.PoolClient): SqlExecutor => ({
  query: async <R extends SqlRow = SqlRow>(text: string, params: readonly unknown[] = []): Promise<SqlResult<R>> => {
    const result = await target.query<R>(text, [...params]);
    return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
  },
  exec: async (script) => {
    // Without parameters pg uses the simple protocol, which accepts several statements.
    await target.query(script);
  },
});

export const createPgPoolClient = (options: PgPoolClientOptions): SqlClient => {
  if (options.schema !== undefined && !SCHEMA.test(options.schema)) throw new Error(`invalid schema name: ${options.schema}`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  pool.on("error", options.onIdleError ?? (() => undefined));
  let closed: Promise<void> | undefined;

  return {
    ...executor(pool),
    transaction: async (fn) => {
      const client = await pool.connect();
      // While checked out the pool's own listener is detached; a dropped connection then surfaces
      // through the failing query instead of an unhandled 'error' event.
      const ignore = () => undefined;
      client.on("error", ignore);
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        const result = await fn(executor(client));
        await client.query("COMMIT");
        return result;
      } catch (e) {
        await client.query("ROLLBACK").catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw e;
      } finally {
        client.removeListener("error", ignore);
        // A connection that could not roll back is in an unknown state: destroy it instead of reusing it.
        client.release(broken);
      }
    },
    close: () => (closed ??= pool.end()),
  };
};
