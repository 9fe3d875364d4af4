import pg from "pg";
import type { SqlClient, SqlExecutor, SqlResult, SqlRow } from "./sql-client.js";
import { CommitInDoubtError, isAnswered } from "./sql-errors.js";

export interface PgPoolClientOptions {
  readonly connectionString: string;
  /** Pool size; default 10. */
  readonly max?: number;
  /** Schema to use as `search_path` (must exist); lets several deployments or test runs share a database. */
  readonly schema?: string;
  /** How long a query may wait for a free connection before failing; default 5000 ms (0 would wait forever). */
  readonly connectionTimeoutMillis?: number;
  /**
   * How long a query may wait for its answer on an open connection; default 5000 ms. A server that stops
   * answering (frozen, partitioned) keeps the socket open, so without this a request would hang as long as
   * the outage. Scripts (`exec`, i.e. migrations) are not bounded: they may legitimately run long.
   */
  readonly queryTimeoutMillis?: number;
  /**
   * Errors of idle connections (server restart, network cut). The pool drops the connection and the next
   * query reports its own failure, so by default they are ignored rather than crashing the process.
   */
  readonly onIdleError?: (error: Error) => void;
  /**
   * How old a connection's cached plans may grow before they are made again; default 5000 ms. A generic
   * plan is made once, on the tables as they were then: made while `images` held a few rows it scans the
   * table whole, and would go on doing so as the table grows, until an ANALYZE happens to invalidate it.
   */
  readonly replanAfterMillis?: number;
  /** The clock that ages plans; tests move it. */
  readonly now?: () => number;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/** pg's error when `query_timeout` passes without an answer; the connection is then in an unknown state. */
const isReadTimeout = (e: unknown): boolean => e instanceof Error && e.message === "Query read timeout";

const executor = (target: pg.Pool | pg.PoolClient, queryTimeout: number): SqlExecutor => ({
  query: async <R extends SqlRow = SqlRow>(text: string, params: readonly unknown[] = [], options: { readonly name?: string } = {}): Promise<SqlResult<R>> => {
    // On a timeout the pool destroys the connection (a query's error releases it as broken).
    const config: pg.QueryConfig & { query_timeout: number } = {
      text,
      values: [...params],
      query_timeout: queryTimeout,
      ...(options.name === undefined ? {} : { name: options.name }),
    };
    const result = await target.query<R>(config);
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
    // Postgres's default: a named statement (only the duplicate is one) and a foreign key's check get a
    // cached generic plan after five custom ones when that plan costs no more, which saves planning them
    // on every call. Unnamed statements are planned with their values each time.
    options: ["-c plan_cache_mode=auto", ...(options.schema ? [`-c search_path=${options.schema}`] : [])].join(" "),
  });
  pool.on("error", options.onIdleError ?? (() => undefined));
  let closed: Promise<void> | undefined;

  const queryTimeout = options.queryTimeoutMillis ?? 5000;

  // Bounds the age of the generic plans (see replanAfterMillis): DISCARD PLANS keeps the prepared
  // statements and makes each plan again, on the tables as they are, at its next use. Sent on checkout,
  // so pg queues it ahead of the caller's statement: one extra round trip per connection per interval.
  const replanAfter = options.replanAfterMillis ?? 5000;
  const now = options.now ?? Date.now;
  const discard: pg.QueryConfig & { query_timeout: number } = { text: "DISCARD PLANS", query_timeout: queryTimeout };
  const plannedAt = new WeakMap<pg.PoolClient, number>();
  pool.on("acquire", (client) => {
    const at = now();
    const planned = plannedAt.get(client);
    if (planned !== undefined && at - planned < replanAfter) return;
    plannedAt.set(client, at);
    // A new connection has no plans yet. On a broken one the caller's own statement reports the failure.
    if (planned !== undefined) client.query(discard).catch(() => undefined);
  });

  return {
    ...executor(pool, queryTimeout),
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    transaction: async (fn) => {
      const client = await pool.connect();
      // While checked out the pool's own listener is detached; a dropped connection then surfaces
      // through the failing query instead of an unhandled 'error' event.
      const ignore = () => undefined;
      client.on("error", ignore);
      const tx = executor(client, queryTimeout);
      let broken: Error | undefined;
      let committing = false;
      try {
        await tx.query("BEGIN");
        const result = await fn(tx);
        committing = true;
        await tx.query("COMMIT");
        return result;
      } catch (e) {
        if (committing && !isAnswered(e)) {
          broken = e instanceof Error ? e : new Error(String(e));
          throw new CommitInDoubtError(e);
        }
        // A connection that stopped answering would only make ROLLBACK wait as long again: drop it instead,
        // which ends the transaction on the server's side.
        if (isReadTimeout(e)) broken = e as Error;
        else
          await tx.query("ROLLBACK").catch((rollbackError: unknown) => {
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
