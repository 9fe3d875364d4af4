import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgliteClient, pgliteWorkerOf } from "../src/postgres/pglite.sql-client.js";
import type { SqlClient, SqlExecutor } from "../src/postgres/sql-client.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const CLIENT_MODULE = new URL("../src/postgres/pglite.sql-client.ts", import.meta.url).href;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The error's own plain fields, as the repository reads them (`code`, `constraint`, `detail`, …). */
const fieldsOf = (e: unknown): Record<string, unknown> =>
  Object.fromEntries(Object.entries(e as object).filter(([, v]) => typeof v === "string" || typeof v === "number"));

const rejection = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );

const SCHEMA = `
  CREATE TABLE item (id int PRIMARY KEY, name text UNIQUE, at timestamptz, doc jsonb, bytes bytea, tags text[], big int8, amount numeric);
  CREATE TABLE deferred (id int, CONSTRAINT deferred_id_key UNIQUE (id) DEFERRABLE INITIALLY DEFERRED);
  CREATE TABLE counter (n int NOT NULL);
  INSERT INTO counter VALUES (0);
`;

// The statements the repository sends take Dates, JSON text, arrays, numbers, nulls and bytes.
const STATEMENTS: readonly (readonly [string, readonly unknown[]])[] = [
  [
    "INSERT INTO item VALUES ($1, $2, $3, $4, $5, $6, $7, $8), ($9, $10, NULL, NULL, NULL, NULL, NULL, NULL) RETURNING *",
    [1, "one", new Date("2024-05-06T07:08:09.123Z"), JSON.stringify({ a: [1, "x"], b: null }), new Uint8Array([0, 1, 254, 255]), ["red", "blue"], 9_007_199_254_740_991, "12.50", 2, "two"],
  ],
  ["SELECT * FROM item ORDER BY id", []],
  ["SELECT * FROM item WHERE id = $1", [3]],
  ["UPDATE item SET name = name || '!' WHERE id = ANY($1::int[])", [[1, 2, 3]]],
  ["SELECT id, name, at > $1 AS later, doc->'a' AS a, tags[2] AS second FROM item ORDER BY id", [new Date(0)]],
  ["DELETE FROM item WHERE id = $1", [2]],
  ["SELECT count(*)::int AS n, $1::text AS echo, $2::int AS absent FROM item", ["é ✓", null]],
];

describe("PGlite in a worker thread", () => {
  let worker: SqlClient;
  let main: SqlClient;
  beforeAll(async () => {
    [worker, main] = await Promise.all([createPgliteClient(), createPgliteClient({ thread: "main" })]);
    await Promise.all([worker.exec(SCHEMA), main.exec(SCHEMA)]);
  });
  afterAll(async () => {
    await Promise.all([worker?.close(), main?.close()]);
  });

  it("runs off the main thread by default, and on it when asked", () => {
    expect(pgliteWorkerOf(worker)).toBeDefined();
    expect(pgliteWorkerOf(main)).toBeUndefined();
  });

  it("answers with the same rows and row counts as PGlite on the main thread", async () => {
    for (const [text, params] of STATEMENTS) {
      const [fromWorker, fromMain] = [await worker.query(text, params), await main.query(text, params)];
      expect(fromWorker, text).toEqual(fromMain);
    }
  });

  it("named statements answer as unnamed ones do, every time, inside transactions too", async () => {
    // Each statement runs in a transaction that is rolled back, so that each run starts from the same rows.
    const undone = async <A>(fn: (tx: SqlExecutor) => Promise<A>): Promise<A> => {
      const undo = new Error("undo");
      let result: A | undefined;
      await expect(
        worker.transaction(async (tx) => {
          result = await fn(tx);
          throw undo;
        }),
      ).rejects.toBe(undo);
      return result!;
    };
    // The rows the statements before this one leave, from an empty table.
    const upTo = async (tx: SqlExecutor, i: number) => {
      await tx.exec("DELETE FROM item");
      for (const [text, params] of STATEMENTS.slice(0, i)) await tx.query(text, params);
    };
    for (const [i, [text, params]] of STATEMENTS.entries()) {
      const unnamed = await undone(async (tx) => {
        await upTo(tx, i);
        return tx.query(text, params);
      });
      // Prepared on the first call, executed on the second (after its writes were undone).
      const named = await undone(async (tx) => {
        await upTo(tx, i);
        await tx.exec("SAVEPOINT again");
        const first = await tx.query(text, params, { name: `s${i}` });
        await tx.exec("ROLLBACK TO SAVEPOINT again");
        return [first, await tx.query(text, params, { name: `s${i}` })];
      });
      expect(named, text).toEqual([unnamed, unnamed]);
    }
    // Outside a transaction, with other values each call.
    for (const n of [1, 2, 3, null]) {
      expect(await worker.query("SELECT $1::int + 1 AS n", [n], { name: "plus_one" })).toEqual(await main.query("SELECT $1::int + 1 AS n", [n]));
    }
    // Prepared once, in the database's session; the in-thread client ignores names.
    const prepared = "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'plus_one'";
    expect((await worker.query(prepared)).rows).toEqual([{ name: "plus_one", generic_plans: 0, custom_plans: 4 }]);
    expect((await main.query(prepared)).rows).toEqual([]);
  });

  it("a named statement's errors are the unnamed statement's", async () => {
    const text = "INSERT INTO item (id, name) VALUES ($1, $2)";
    const fromMain = await rejection(main.query(text, [101, "one!"]));
    for (let i = 0; i < 2; i++) {
      const fromWorker = await rejection(worker.query(text, [101, "one!"], { name: "insert_item" }));
      expect(fieldsOf(fromWorker)).toEqual(fieldsOf(fromMain));
      expect((fromWorker as Error).message).toBe((fromMain as Error).message);
    }
    // One that does not parse, and is then fixed under the same name.
    const bad = await rejection(worker.query("SELEC 1", [], { name: "typo" }));
    expect(fieldsOf(bad)).toEqual(fieldsOf(await rejection(main.query("SELEC 1"))));
    expect((await worker.query("SELECT 1 AS one", [], { name: "typo" })).rows).toEqual([{ one: 1 }]);
  });

  it("a named statement follows its text, and outlives DEALLOCATE, a rolled back transaction and a changed table", async () => {
    await worker.exec("CREATE TABLE shape (a int); INSERT INTO shape VALUES (1)");
    expect((await worker.query("SELECT 1 AS x", [], { name: "moving" })).rows).toEqual([{ x: 1 }]);
    expect((await worker.query("SELECT 2 AS y", [], { name: "moving" })).rows).toEqual([{ y: 2 }]);
    await worker.exec("DEALLOCATE ALL");
    expect((await worker.query("SELECT 2 AS y", [], { name: "moving" })).rows).toEqual([{ y: 2 }]);

    await rejection(
      worker.transaction(async (tx) => {
        await tx.query("SELECT * FROM shape", [], { name: "shape" });
        throw new Error("roll back");
      }),
    );
    expect((await worker.query("SELECT * FROM shape", [], { name: "shape" })).rows).toEqual([{ a: 1 }]);
    await worker.exec("ALTER TABLE shape ADD COLUMN b int DEFAULT 2");
    expect((await worker.query("SELECT * FROM shape", [], { name: "shape" })).rows).toEqual([{ a: 1, b: 2 }]);
  });

  it("a named statement outside an open transaction waits for it too", async () => {
    let inside!: () => void;
    const started = new Promise<void>((resolve) => (inside = resolve));
    const events: string[] = [];
    const transaction = worker.transaction(async (tx) => {
      await tx.query("INSERT INTO item (id, name) VALUES (500, 'named waits')", [], { name: "insert_500" });
      inside();
      await sleep(100);
      events.push("fn done");
    });
    await started;
    const outside = worker.query("SELECT id FROM item WHERE id = $1", [500], { name: "find_item" }).then((r) => (events.push("outside answered"), r));
    await transaction;
    expect((await outside).rows).toEqual([{ id: 500 }]);
    expect(events).toEqual(["fn done", "outside answered"]);
  });

  it("a unique violation arrives with the fields of the database's error", async () => {
    const insert = (c: SqlClient) => rejection(c.query("INSERT INTO item (id, name) VALUES ($1, $2)", [100, "one!"]));
    const [fromWorker, fromMain] = [await insert(worker), await insert(main)];
    expect(fromWorker).toBeInstanceOf(Error);
    expect(fromWorker).toMatchObject({ code: "23505", constraint: "item_name_key", detail: "Key (name)=(one!) already exists.", table: "item" });
    expect((fromWorker as Error).message).toBe((fromMain as Error).message);
    expect(fieldsOf(fromWorker)).toEqual(fieldsOf(fromMain));
  });

  it("a transaction whose fn throws rolls back and rejects with that same error", async () => {
    const failure = new Error("changed my mind");
    const outcome = await rejection(
      worker.transaction(async (tx) => {
        await tx.query("INSERT INTO item (id, name) VALUES (200, 'rolled back')");
        expect((await tx.query("SELECT id FROM item WHERE id = 200")).rowCount).toBe(1);
        throw failure;
      }),
    );
    expect(outcome).toBe(failure);
    expect((await worker.query("SELECT id FROM item WHERE id = 200")).rows).toEqual([]);
  });

  it("a transaction commits its statements and resolves with fn's value; tx.exec runs inside it", async () => {
    const value = { kept: true };
    const result = await worker.transaction(async (tx) => {
      await tx.exec("INSERT INTO item (id, name) VALUES (300, 'a'); INSERT INTO item (id, name) VALUES (301, 'b')");
      return value;
    });
    expect(result).toBe(value);
    expect((await worker.query("SELECT id FROM item WHERE id IN (300, 301) ORDER BY id")).rows).toEqual([{ id: 300 }, { id: 301 }]);
  });

  it("a COMMIT that fails rejects with the database's error, and nothing is kept", async () => {
    const failure = await rejection(
      worker.transaction(async (tx) => {
        await tx.query("INSERT INTO deferred VALUES (1), (1)");
      }),
    );
    expect(failure).toMatchObject({ code: "23505", constraint: "deferred_id_key" });
    expect((await worker.query("SELECT * FROM deferred")).rowCount).toBe(0);
  });

  it("a statement that failed inside a transaction fn caught makes the commit reject, as PGlite does", async () => {
    const run = (c: SqlClient) =>
      rejection(
        c.transaction(async (tx) => {
          await tx.query("INSERT INTO item (id) VALUES (1)").catch(() => undefined);
        }),
      );
    const [fromWorker, fromMain] = [await run(worker), await run(main)];
    expect((fromWorker as Error).message).toBe((fromMain as Error).message);
    expect(fieldsOf(fromWorker)).toEqual(fieldsOf(fromMain));
  });

  it("a statement outside an open transaction waits until the transaction has committed", async () => {
    const events: string[] = [];
    let inside!: () => void;
    const started = new Promise<void>((resolve) => (inside = resolve));
    const transaction = worker.transaction(async (tx) => {
      await tx.query("INSERT INTO item (id, name) VALUES (400, 'waited for')");
      inside();
      await sleep(200);
      events.push("fn done");
      return "committed";
    });
    await started;
    const outside = worker.query<{ id: number }>("SELECT id FROM item WHERE id = 400").then((r) => {
      events.push("outside answered");
      return r;
    });
    expect(await transaction).toBe("committed");
    events.push("transaction resolved");
    expect((await outside).rows).toEqual([{ id: 400 }]);
    expect(events).toEqual(["fn done", "transaction resolved", "outside answered"]);
  });

  it("concurrent transactions queue: each runs alone, in the order they were asked", async () => {
    const order: number[] = [];
    const bump = (i: number, tx: SqlExecutor) => async () => {
      order.push(i);
      const { rows } = await tx.query<{ n: number }>("SELECT n FROM counter");
      await sleep(20);
      await tx.query("UPDATE counter SET n = $1", [rows[0]!.n + 1]);
      order.push(i);
    };
    const before = (await worker.query<{ n: number }>("SELECT n FROM counter")).rows[0]!.n;
    await Promise.all([0, 1, 2, 3].map((i) => worker.transaction((tx) => bump(i, tx)())));
    expect((await worker.query<{ n: number }>("SELECT n FROM counter")).rows[0]!.n).toBe(before + 4);
    expect(order).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });

  describe("statements sent together share a commit", () => {
    beforeAll(async () => {
      await worker.exec("CREATE TABLE grouped (k int PRIMARY KEY)");
    });
    const txid = "txid_current()::text AS x";

    it("while the database is busy, the statements that come meanwhile run in one transaction", async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => worker.query<{ k: number; x: string }>(`INSERT INTO grouped VALUES ($1) RETURNING k, ${txid}`, [i])));
      expect(results.map((r) => r.rows[0]!.k)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      // The first runs at once, alone; the others came while it ran.
      expect(new Set(results.map((r) => r.rows[0]!.x)).size).toBeLessThan(20);
      expect((await worker.query<{ n: number }>("SELECT count(*)::int AS n FROM grouped WHERE k < 20")).rows).toEqual([{ n: 20 }]);
    });

    it("each answer is the statement's own at its turn: a read sees the writes sent before it, not those after", async () => {
      const [, , seen] = await Promise.all([
        worker.query("SELECT 1"),
        worker.query("INSERT INTO grouped VALUES (40)"),
        worker.query<{ n: number }>("SELECT count(*)::int AS n FROM grouped WHERE k >= 40"),
        worker.query("INSERT INTO grouped VALUES (41)"),
      ]);
      expect(seen.rows).toEqual([{ n: 1 }]);
    });

    it("one that fails fails alone, with the database's error; the others are kept, once each", async () => {
      const keys = [30, 31, 32, 31, 33, 34];
      const answers = await Promise.all(
        keys.map((k) =>
          worker.query<{ k: number }>("INSERT INTO grouped VALUES ($1) RETURNING k", [k]).then(
            (r) => r.rows,
            (e: unknown) => fieldsOf(e),
          ),
        ),
      );
      expect(answers[3]).toMatchObject({ code: "23505", constraint: "grouped_pkey", detail: "Key (k)=(31) already exists." });
      expect(answers.filter((_, i) => i !== 3)).toEqual([30, 31, 32, 33, 34].map((k) => [{ k }]));
      const { rows } = await worker.query<{ k: number }>("SELECT k FROM grouped WHERE k BETWEEN 30 AND 39 ORDER BY k");
      expect(rows.map((r) => r.k)).toEqual([30, 31, 32, 33, 34]);
    });

    it("a statement that cannot run in a transaction block still runs, and so do those sent with it", async () => {
      const answers = await Promise.all([
        worker.query("SELECT 1"),
        worker.query("INSERT INTO grouped VALUES (50)"),
        worker.query("VACUUM grouped"),
        worker.query("INSERT INTO grouped VALUES (51)"),
      ]);
      expect(answers.map((a) => a.rowCount)).toEqual([1, 1, 0, 1]);
      expect((await worker.query<{ n: number }>("SELECT count(*)::int AS n FROM grouped WHERE k IN (50, 51)")).rows).toEqual([{ n: 2 }]);
    });

    it("a transaction or a script sent after statements still waiting runs after them", async () => {
      // The first keeps the database busy, so the next ones wait to be grouped when the others come.
      const busy = worker.query("SELECT pg_sleep(0.05)");
      const inserts = [worker.query("INSERT INTO grouped VALUES (60)"), worker.query("INSERT INTO grouped VALUES (61)")];
      const seen = worker.transaction(async (tx) => (await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM grouped WHERE k IN (60, 61, 62)")).rows[0]!.n);
      const script = worker.exec("INSERT INTO grouped VALUES (62)");
      const after = worker.query<{ n: number }>("SELECT count(*)::int AS n FROM grouped WHERE k IN (60, 61, 62)");
      await Promise.all([busy, ...inserts, script]);
      expect(await seen).toBe(2);
      expect((await after).rows).toEqual([{ n: 3 }]);
    });

    it("a transaction that has run for a few milliseconds takes no more statements: they commit in the next one", async () => {
      const [, slow, ...after] = await Promise.all([
        worker.query("SELECT 1"),
        worker.query<{ x: string }>(`SELECT ${txid}, pg_sleep(0.02)::text`),
        ...[1, 2, 3].map(() => worker.query<{ x: string }>(`SELECT ${txid}`)),
      ]);
      for (const a of after) expect(a.rows[0]!.x).not.toBe(slow!.rows[0]!.x);
    });
  });

  it("does its work on another thread: the main thread's timers keep firing during a long statement", async () => {
    const gaps: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 10);
    try {
      const started = performance.now();
      await worker.query("SELECT count(*) FROM generate_series(1, 3000000)");
      const took = performance.now() - started;
      expect(took).toBeGreaterThan(200);
      expect(gaps.length).toBeGreaterThan(took / 10 / 3);
      expect(Math.max(...gaps)).toBeLessThan(took / 2);
    } finally {
      clearInterval(timer);
    }
  });

  it("a statement with parameters that cannot be cloned rejects, and the client carries on", async () => {
    await expect(worker.query("SELECT $1::text", [() => 1])).rejects.toThrow();
    expect((await worker.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });
});

describe("PGlite worker lifecycle", () => {
  it("after close every call rejects, and close can be called again", async () => {
    const client = await createPgliteClient();
    expect((await client.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await client.close();
    await expect(client.query("SELECT 1")).rejects.toThrow("PGlite is closed");
    await expect(client.exec("SELECT 1")).rejects.toThrow("PGlite is closed");
    await expect(client.transaction(async () => 1)).rejects.toThrow("PGlite is closed");
    await client.close();
  });

  it("close lets the open transaction finish, then refuses new work", async () => {
    const client = await createPgliteClient();
    await client.exec("CREATE TABLE t (n int)");
    let inside!: () => void;
    const started = new Promise<void>((resolve) => (inside = resolve));
    const transaction = client.transaction(async (tx) => {
      inside();
      await sleep(100);
      await tx.query("INSERT INTO t VALUES (1)");
      return "done";
    });
    await started;
    const closing = client.close();
    await expect(client.query("SELECT 1")).rejects.toThrow("PGlite is closed");
    expect(await transaction).toBe("done");
    await closing;
  });

  it("a worker that dies rejects the pending call and every later one", async () => {
    const client = await createPgliteClient();
    const pending = client.query("SELECT count(*) FROM generate_series(1, 20000000)");
    await sleep(50);
    await pgliteWorkerOf(client)!.terminate();
    await expect(pending).rejects.toThrow(/embedded database worker stopped/);
    await expect(client.query("SELECT 1")).rejects.toThrow(/embedded database worker stopped/);
    await expect(client.transaction(async () => 1)).rejects.toThrow(/embedded database worker stopped/);
    await client.close();
  });

  it("a worker that dies during a transaction rejects it", async () => {
    const client = await createPgliteClient();
    const transaction = client.transaction(async (tx) => {
      const worker = pgliteWorkerOf(client)!;
      void worker.terminate();
      await tx.query("SELECT 1");
    });
    await expect(transaction).rejects.toThrow(/embedded database worker stopped/);
    await client.close();
  });

  it("every statement of a group that was answered is on disk when the worker dies", { timeout: 60_000 }, async () => {
    const root = await mkdtemp(join(tmpdir(), "image-api-pglite-worker-"));
    try {
      const dataDir = join(root, "db");
      const client = await createPgliteClient({ dataDir });
      await client.exec("CREATE TABLE kept (k int PRIMARY KEY)");
      await Promise.all(Array.from({ length: 40 }, (_, k) => client.query("INSERT INTO kept VALUES ($1)", [k])));
      await pgliteWorkerOf(client)!.terminate();
      await client.close();
      const again = await createPgliteClient({ dataDir });
      try {
        expect((await again.query<{ n: number }>("SELECT count(*)::int AS n FROM kept")).rows).toEqual([{ n: 40 }]);
      } finally {
        await again.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("a data dir that cannot be opened rejects createPgliteClient", async () => {
    const root = await mkdtemp(join(tmpdir(), "image-api-pglite-worker-"));
    try {
      const file = join(root, "not-a-dir");
      await writeFile(file, "");
      await expect(createPgliteClient({ dataDir: join(file, "db") })).rejects.toMatchObject({ code: "ENOTDIR" });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("a new data dir is made by a worker of its own, which is gone before the client's worker opens it", { timeout: 60_000 }, async () => {
    const root = await mkdtemp(join(tmpdir(), "image-api-pglite-worker-"));
    const clients: SqlClient[] = [];
    const open = async (dataDir?: string) => {
      const client = await createPgliteClient(dataDir === undefined ? {} : { dataDir });
      clients.push(client);
      return { client, threadId: pgliteWorkerOf(client)!.threadId };
    };
    try {
      const before = await open();
      const fresh = await open(join(root, "db"));
      await fresh.client.exec("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7);");
      await fresh.client.close();
      const again = await open(join(root, "db"));
      // Thread ids count up through the process, so they count the threads each open started (run
      // from source, a worker's module loader has one of its own): a new dir's open, twice an old one's.
      const perOpen = again.threadId - fresh.threadId;
      expect(perOpen).toBeGreaterThan(0);
      expect(fresh.threadId - before.threadId).toBe(2 * perOpen);
      expect((await again.client.query<{ n: number }>("SELECT n FROM kept")).rows).toEqual([{ n: 7 }]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await rm(root, { recursive: true, force: true });
    }
  });

  it("runs with a 32 MB buffer pool, in memory, durable or not, on either thread", { timeout: 60_000 }, async () => {
    const root = await mkdtemp(join(tmpdir(), "image-api-pglite-worker-"));
    try {
      for (const options of [{}, { dataDir: join(root, "durable") }, { dataDir: join(root, "relaxed"), durable: false }]) {
        for (const thread of ["worker", "main"] as const) {
          const client = await createPgliteClient({ ...options, thread });
          try {
            expect((await client.query<{ shared_buffers: string }>("SHOW shared_buffers")).rows).toEqual([{ shared_buffers: "32MB" }]);
          } finally {
            await client.close();
          }
        }
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("an open client does not hold the process open", { timeout: 60_000 }, async () => {
    const script = `
      import { createPgliteClient } from ${JSON.stringify(CLIENT_MODULE)};
      const client = await createPgliteClient();
      const { rows } = await client.query("SELECT 41 + 1 AS n");
      console.log(rows[0].n);
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: "" },
      timeout: 50_000,
    });
    expect(stdout.trim()).toBe("42");
  });
});
