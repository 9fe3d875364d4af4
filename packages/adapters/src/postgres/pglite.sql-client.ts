import { existsSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { PGlite, Transaction } from "@electric-sql/pglite";
import type { PgliteOpenOptions } from "./pglite.open.js";
import { deserializeError, type Reply, type Request } from "./pglite.protocol.js";
import type { SqlClient, SqlExecutor, SqlResult, SqlRow } from "./sql-client.js";

export interface PgliteClientOptions {
  /** Directory holding the database, created with its parents if missing; in memory when absent. */
  readonly dataDir?: string;
  /**
   * Run a CHECKPOINT this often. PGlite runs Postgres in single-user mode, which has no checkpointer:
   * without this, WAL piles up until max_wal_size and a restart after a crash replays all of it.
   */
  readonly checkpointIntervalMs?: number;
  /**
   * Whether a commit is on disk when its query resolves, so that it survives power loss or an OS crash
   * (default true; only meaningful with a dataDir). When on, Postgres runs with fsync=on and its fsync
   * and fdatasync calls reach the real files: each commit waits for its WAL, and a checkpoint for the
   * data files before the WAL they need is recycled. Off, as PGlite ships, a killed process still loses
   * nothing it acknowledged, but the OS may lose the last writes.
   */
  readonly durable?: boolean;
  /**
   * Where PGlite runs (default "worker"): a worker thread of its own, so that SQL and the event loop
   * (HTTP) each get a core and a slow statement does not stall the process; or "main", this thread.
   * The client behaves the same either way: same results, same errors, same transaction queueing.
   */
  readonly thread?: "main" | "worker";
}

/**
 * PGlite on this thread. Its module is loaded only here: on the default (worker) path only the worker
 * loads it, and this thread keeps none of its code.
 */
const onThisThread = async (options: PgliteOpenOptions): Promise<SqlClient> => {
  const { openPglite, toSqlResult } = await import("./pglite.open.js");
  const executor = (target: PGlite | Transaction): SqlExecutor => ({
    query: async <R extends SqlRow = SqlRow>(text: string, params: readonly unknown[] = []): Promise<SqlResult<R>> =>
      toSqlResult(await target.query<R>(text, [...params])),
    exec: async (script) => {
      await target.exec(script);
    },
  });
  const { db, close } = await openPglite(options);
  return {
    ...executor(db),
    transaction: (fn) => db.transaction((tx) => fn(executor(tx))),
    close,
  };
};

/**
 * The worker's module: compiled, the .js next to this file; run from source (tsx, vitest), where only
 * the .ts is there, a small entry that registers tsx in the worker and then loads the .ts.
 */
const workerUrl = (): URL =>
  new URL(import.meta.url.endsWith(".ts") ? "./pglite.worker.source.mjs" : "./pglite.worker.js", import.meta.url);

/** The worker of each client opened on one, for tests that need to kill it. */
const workers = new WeakMap<SqlClient, Worker>();
export const pgliteWorkerOf = (client: SqlClient): Worker | undefined => workers.get(client);

/** What every call rejects with once the client is closed, as PGlite itself says it. */
const closedError = (): Error => new Error("PGlite is closed");

interface Call {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (e: Error) => void;
}

const inWorker = async (options: PgliteOpenOptions): Promise<SqlClient> => {
  const workerData: PgliteOpenOptions = { dataDir: options.dataDir, checkpointIntervalMs: options.checkpointIntervalMs, durable: options.durable };
  // It needs none of the process's flags, and some would stop it from starting (`node -e`'s --input-type).
  const worker = new Worker(workerUrl(), { workerData, execArgv: [] });

  const pending = new Map<number, Call>();
  let nextId = 1;
  /** Set by close(): new statements and transactions are refused, an open transaction may still finish. */
  let closed: Error | undefined;
  /** Set once the worker is gone (or going): everything is refused. */
  let gone: Error | undefined;
  let failure: Error | undefined;

  // The worker holds the process open only while a call waits on it, as PGlite on the main thread holds nothing.
  const send = (request: Request, refused: Error | undefined): Promise<Reply> => {
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise<Reply>((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(request.id, { resolve, reject });
      try {
        worker.postMessage(request);
      } catch (e) {
        // Parameters that cannot be cloned (a function, say): this call fails, the worker never saw it.
        pending.delete(request.id);
        if (pending.size === 0) worker.unref();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  };

  worker.on("message", (reply: Reply) => {
    const call = pending.get(reply.id);
    if (call === undefined) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if (reply.error === undefined) call.resolve(reply);
    else call.reject(deserializeError(reply.error));
  });
  worker.on("error", (e) => {
    failure = e;
  });
  // A reply that cannot be read cannot be matched to its call either: treat it as the worker failing.
  worker.on("messageerror", (e) => {
    failure = e;
    void worker.terminate();
  });
  worker.on("exit", (code) => {
    gone ??= new Error(
      `embedded database worker stopped (${failure ? failure.message : `exit code ${code}`})`,
      ...(failure ? [{ cause: failure }] : []),
    );
    closed ??= gone;
    for (const call of pending.values()) call.reject(gone);
    pending.clear();
  });

  const opened = new Promise<Reply>((resolve, reject) => pending.set(0, { resolve, reject }));
  try {
    await opened;
  } catch (e) {
    await worker.terminate();
    throw e;
  }

  const executorIn = (tx: number): SqlExecutor => ({
    query: async <R extends SqlRow = SqlRow>(text: string, params: readonly unknown[] = [], options?: { readonly name?: string }): Promise<SqlResult<R>> => {
      const request: Request = { op: "query", id: nextId++, tx, text, params, ...(options?.name === undefined ? {} : { name: options.name }) };
      const reply = await send(request, tx === 0 ? closed : gone);
      return { rows: reply.rows as R[], rowCount: reply.rowCount! };
    },
    exec: async (script) => {
      await send({ op: "exec", id: nextId++, tx, script }, tx === 0 ? closed : gone);
    },
  });

  let closing: Promise<void> | undefined;
  const client: SqlClient = {
    ...executorIn(0),
    // As PGlite's own: `fn` starts once the transaction holds the connection, a rejection from it rolls
    // back and rejects with that same error, and a failing ROLLBACK or COMMIT rejects with its own.
    transaction: async (fn) => {
      const tx = nextId++;
      await send({ op: "begin", id: tx }, closed);
      let result;
      try {
        result = await fn(executorIn(tx));
      } catch (e) {
        await send({ op: "end", id: nextId++, tx, commit: false }, gone);
        throw e;
      }
      await send({ op: "end", id: nextId++, tx, commit: true }, gone);
      return result;
    },
    // Closing the database in the worker checkpoints it; PGlite's close waits for the open transaction.
    close: () =>
      (closing ??= (async () => {
        if (gone !== undefined) return;
        closed = closedError();
        try {
          await send({ op: "close", id: nextId++ }, gone);
        } finally {
          gone ??= closedError();
          await worker.terminate();
        }
      })()),
  };
  workers.set(client, worker);
  return client;
};

/**
 * Postgres compiled to WebAssembly, in process. It has a single connection: PGlite queues queries and
 * transactions, so transactions never interleave and the repository's row locks are simply uncontended.
 */
export const createPgliteClient = (options: PgliteClientOptions = {}): Promise<SqlClient> =>
  options.thread === "main" ? onThisThread(options) : inFreshWorker(options);

/**
 * A new data dir is made by initdb inside PGlite, whose WebAssembly memory grows to several hundred MB
 * doing it and never shrinks while the instance lives (the process stayed near 800 MB for good). So a
 * first worker makes the database and goes, and the client's own worker opens it as a restart would
 * (near 280 MB). The cost is one more open, a few hundred ms, on the first start only.
 */
const inFreshWorker = async (options: PgliteOpenOptions): Promise<SqlClient> => {
  if (options.dataDir !== undefined && !existsSync(join(options.dataDir, "PG_VERSION"))) await (await inWorker(options)).close();
  return inWorker(options);
};
