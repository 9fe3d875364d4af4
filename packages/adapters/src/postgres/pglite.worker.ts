/**
 * The embedded database's thread: opens PGlite as `workerData` says and answers the client's messages
 * (see pglite.protocol.ts). The work keeps the order it was sent in, as with PGlite on the main thread:
 * a plain statement waits for an open transaction, a transaction for the statements before it. Plain
 * statements sent together may share a commit (groupCommit).
 */
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
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
type Query = Extract<Request, { op: "query" }>;

const runQuery = (on: PGlite | Transaction, named: Named, request: Query, inTransaction: boolean) =>
  request.name !== undefined && named !== undefined
    ? named(request.name, request.text, request.params, inTransaction)
    : on.query(request.text, request.params as unknown[]);

const handle = async (db: PGlite, named: Named, close: () => Promise<void>, request: Request): Promise<void> => {
  const { id } = request;
  try {
    switch (request.op) {
      case "query":
        return post({ id, ...toSqlResult(await runQuery(target(db, request.tx), named, request, request.tx !== 0)) });
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

/**
 * A transaction of grouped statements takes no new one once it has run this long, so that an answer
 * held for the commit waits for little more than the statement itself.
 */
const GROUP_BUDGET_MS = 4;

/**
 * Group commit. Each statement outside a transaction would be a commit of its own, and with a durable
 * data dir every commit waits for its own fdatasync, one after the other on this one connection. The
 * statements that arrive while the database is busy run instead one after the other, in the order they
 * came, in one transaction, and are answered once its COMMIT (one fdatasync) is through: nothing is
 * acknowledged before it is on disk, and every answer is what the statement alone, at its turn, would
 * have given. Should one fail (or the commit), the transaction is rolled back, so none of them happened,
 * and each runs again on its own: the same statements, in the same order, from the same state.
 * Postgres has nothing of the kind for a single connection (commit_delay waits for other backends).
 *
 * Scripts, transactions and close keep their place among the statements, so each still waits for what
 * was sent before it; what runs inside an open transaction goes straight to it.
 */
const groupCommit = (db: PGlite, named: Named, close: () => Promise<void>, takeArrived: () => void): ((request: Request) => void) => {
  const waiting: Request[] = [];
  let draining = false;
  const alone = (request: Request): Promise<void> => handle(db, named, close, request);

  /** Runs the statements in one transaction; those it had no time for go back to the head of `waiting`. */
  const together = async (batch: readonly Query[]): Promise<void> => {
    const results: Awaited<ReturnType<typeof runQuery>>[] = [];
    let ran = 0;
    let committed = true;
    try {
      await db.transaction(async (tx) => {
        const started = performance.now();
        while (ran < batch.length && (ran === 0 || performance.now() - started < GROUP_BUDGET_MS)) {
          ran += 1;
          results.push(await runQuery(tx, named, batch[ran - 1]!, true));
        }
      });
    } catch {
      committed = false;
    }
    waiting.unshift(...batch.slice(ran));
    for (let i = 0; i < ran; i++) {
      if (committed) post({ id: batch[i]!.id, ...toSqlResult(results[i]!) });
      else await alone(batch[i]!);
    }
  };

  /** The statements at the head of `waiting`, up to the first request of another kind. */
  const leadingStatements = (): Query[] => {
    const batch: Query[] = [];
    while (waiting[0]?.op === "query") batch.push(waiting.shift() as Query);
    return batch;
  };

  const drain = async (): Promise<void> => {
    do {
      const batch = leadingStatements();
      if (batch.length === 0) await alone(waiting.shift()!);
      else await (batch.length === 1 ? alone(batch[0]!) : together(batch));
      // A statement runs and is answered within microtasks, before the event loop would hand over the
      // messages that came meanwhile: they are taken now, in order.
      takeArrived();
    } while (waiting.length > 0);
    draining = false;
  };

  return (request) => {
    if ((request.op === "query" || request.op === "exec" || request.op === "end") && request.tx !== 0) return void alone(request);
    waiting.push(request);
    if (draining) return;
    draining = true;
    void drain();
  };
};

// The client sends nothing before the answer to the opening (id 0).
openPglite(workerData as PgliteOpenOptions)
  .then(async ({ db, close }) => {
    // Named statements are planned with each call's values (a no-op for unnamed ones). Unlike the pg pool's
    // generic plans this measured no faster here.
    try {
      await db.exec("SET plan_cache_mode = force_custom_plan");
    } catch (e) {
      await close().catch(() => undefined);
      throw e;
    }
    const named = namedStatements(db);
    const dispatch = groupCommit(db, named, close, () => {
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) dispatch(m.message as Request);
    });
    port.on("message", dispatch);
    post({ id: 0 });
  })
  .catch((e: unknown) => fail(0, e));
