import { mkdir } from "node:fs/promises";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { SqlClient, SqlExecutor, SqlResult, SqlRow } from "./sql-client.js";

export interface PgliteClientOptions {
  /** Directory holding the database, created with its parents if missing; in memory when absent. */
  readonly dataDir?: string;
  /**
   * Run a CHECKPOINT this often. PGlite runs Postgres in single-user mode, which has no checkpointer:
   * without this, WAL piles up until max_wal_size and a restart after a crash replays all of it.
   */
  readonly checkpointIntervalMs?: number;
}

const executor = (target: PGlite | Transaction): SqlExecutor => ({
  query: async <R extends SqlRow = SqlRow>(text: string, params: readonly unknown[] = []): Promise<SqlResult<R>> => {
    const result = await target.query<R>(text, [...params]);
    return { rows: result.rows, rowCount: Math.max(result.affectedRows ?? 0, result.rows.length) };
  },
  exec: async (script) => {
    await target.exec(script);
  },
});

/**
 * Postgres compiled to WebAssembly, in process. It has a single connection: PGlite queues queries and
 * transactions, so transactions never interleave and the repository's row locks are simply uncontended.
 */
export const createPgliteClient = async (options: PgliteClientOptions = {}): Promise<SqlClient> => {
  // PGlite creates its own directory but not the ones above it; whatever the blob backend, a fresh data dir must just work.
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir === undefined ? {} : { dataDir: options.dataDir });
  // A failed checkpoint is retried at the next tick; it never holds the process open.
  const checkpoints = options.checkpointIntervalMs
    ? setInterval(() => void (db.closed ? undefined : db.exec("CHECKPOINT").catch(() => undefined)), options.checkpointIntervalMs).unref()
    : undefined;
  return {
    ...executor(db),
    transaction: (fn) => db.transaction((tx) => fn(executor(tx))),
    close: async () => {
      clearInterval(checkpoints);
      if (!db.closed) await db.close();
    },
  };
};
