/**
 * The embedded database's thread: opens PGlite as `workerData` says and answers the client's messages
 * (see pglite.protocol.ts). PGlite's own queue orders the work exactly as it does on the main thread:
 * a plain statement waits for an open transaction, a transaction for the statements before it.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { PGlite, Transaction } from "@electric-sql/pglite";
import { openPglite, toSqlResult, type PgliteOpenOptions } from "./pglite.open.js";
import { namedStatements } from "./pglite.prepared.js";
import { serializeError, type Reply, type Request } from "./pglite.protocol.js";

const port = parentPort;
if (port === null) throw new Error("pglite.worker runs as a worker thread");

/** An open transaction: its PGlite handle and the gate its callback waits on until the client ends it. */
interface Open {
  readonly tx: Transaction;
  readonly end: (commit: boolean) => void;
}
const transactions = new Map<number, Open>();
/** The id of the `end` request of each transaction, to answer once PGlite's commit or rollback is through. */
const endings = new Map<number, number>();

const post = (reply: Reply): void => port.postMessage(reply);
const fail = (id: number, e: unknown): void => post({ id, error: serializeError(e) });

/** What the client's `end` of a rollback makes the transaction's callback reject with. */
const ROLLED_BACK = Symbol("rolled back");

const begin = (db: PGlite, id: number): void => {
  db.transaction(
    (tx) =>
      new Promise<void>((resolve, reject) => {
        transactions.set(id, { tx, end: (commit) => (commit ? resolve() : reject(ROLLED_BACK)) });
        post({ id });
      }),
  )
    .then(
      () => post({ id: endings.get(id)! }),
      (e: unknown) => {
        const end = endings.get(id);
        transactions.delete(id);
        // Rejected before the callback ran: BEGIN itself failed.
        if (end === undefined) return fail(id, e);
        // The rollback went through: the client rejects with the error it already holds.
        if (e === ROLLED_BACK) post({ id: end });
        else fail(end, e);
      },
    )
    .finally(() => endings.delete(id));
};

const target = (db: PGlite, tx: number): PGlite | Transaction => {
  if (tx === 0) return db;
  const open = transactions.get(tx);
  if (open === undefined) throw new Error("Transaction is closed");
  return open.tx;
};

type Named = ReturnType<typeof namedStatements>;

const handle = async (db: PGlite, named: Named, close: () => Promise<void>, request: Request): Promise<void> => {
  const { id } = request;
  try {
    switch (request.op) {
      case "query": {
        const on = target(db, request.tx);
        const result =
          request.name !== undefined && named !== undefined
            ? await named(request.name, request.text, request.params, request.tx !== 0)
            : await on.query(request.text, request.params as unknown[]);
        return post({ id, ...toSqlResult(result) });
      }
      case "exec":
        await target(db, request.tx).exec(request.script);
        return post({ id });
      case "begin":
        return begin(db, id);
      case "end": {
        const open = transactions.get(request.tx);
        if (open === undefined) throw new Error("Transaction is closed");
        transactions.delete(request.tx);
        endings.set(request.tx, id);
        return open.end(request.commit);
      }
      case "close":
        await close();
        return post({ id });
    }
  } catch (e) {
    fail(id, e);
  }
};

// The client sends nothing before the answer to the opening (id 0).
openPglite(workerData as PgliteOpenOptions)
  .then(async ({ db, close }) => {
    // Named statements are planned with each call's values (a no-op for unnamed ones). Unlike the pg pool's
    // generic plans this measured no faster here, where the worker's time goes to the commits.
    try {
      await db.exec("SET plan_cache_mode = force_custom_plan");
    } catch (e) {
      await close().catch(() => undefined);
      throw e;
    }
    const named = namedStatements(db);
    port.on("message", (request: Request) => void handle(db, named, close, request));
    post({ id: 0 });
  })
  .catch((e: unknown) => fail(0, e));
