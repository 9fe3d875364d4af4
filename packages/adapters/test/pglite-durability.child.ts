/**
 * Run by pglite-durability.test.ts under strace: opens a PGlite data dir, commits single-row inserts,
 * checkpoints and closes. Between steps it fsyncs an empty marker file named for the step, so the
 * trace shows which syncs happened before which step had resolved.
 *
 *   node --import tsx pglite-durability.child.ts <dataDir> <markerDir> <durable|relaxed|crash|reopen> <inserts>
 *
 * crash: creates the table and checkpoints, then commits the inserts (so that only the WAL holds them),
 * prints a line of JSON and waits with the database open, to be killed. reopen: opens the data dir
 * (durably), counts the table's rows into a marker ("rows=N") and closes.
 */
import { closeSync, fsyncSync, openSync } from "node:fs";
import { join } from "node:path";
import { createPgliteClient } from "../src/postgres/pglite.sql-client.js";

const [dataDir, markerDir, mode, inserts] = process.argv.slice(2);
const MODES = ["durable", "relaxed", "crash", "reopen"];
if (!dataDir || !markerDir || !mode || !MODES.includes(mode) || !inserts) throw new Error(`usage: <dataDir> <markerDir> <${MODES.join("|")}> <inserts>`);

const marker = (name: string): void => {
  const fd = openSync(join(markerDir, name), "w");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

if (mode === "crash") {
  const client = await createPgliteClient({ dataDir });
  await client.exec("CREATE TABLE committed (id int PRIMARY KEY, payload text NOT NULL)");
  await client.exec("CHECKPOINT");
  const { rows } = await client.query<{ path: string }>("SELECT pg_relation_filepath('committed') AS path");
  for (let i = 0; i < Number(inserts); i++) await client.query("INSERT INTO committed (id, payload) VALUES ($1, $2)", [i, `row ${i}`]);
  process.stdout.write(`${JSON.stringify({ relation: rows[0]!.path, committed: Number(inserts) })}\n`);
  // Open until killed: the client alone does not hold the process open while it waits for nothing.
  setInterval(() => undefined, 60_000);
  await new Promise(() => undefined);
}

if (mode === "reopen") {
  marker("open-begin");
  const client = await createPgliteClient({ dataDir });
  marker("opened");
  const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM committed");
  marker(`rows=${rows[0]!.n}`);
  await client.close();
  marker("closed");
  process.exit(0);
}

marker("open-begin");
const client = await createPgliteClient({ dataDir, durable: mode === "durable" });
marker("opened");
await client.exec("CREATE TABLE committed (id int PRIMARY KEY, payload text NOT NULL)");
// The table's file, relative to the data dir, named in a marker ("/" becomes "~").
const { rows } = await client.query<{ path: string }>("SELECT pg_relation_filepath('committed') AS path");
marker(`relation=${rows[0]!.path.replaceAll("/", "~")}`);
marker("created");
for (let i = 0; i < Number(inserts); i++) {
  await client.query("INSERT INTO committed (id, payload) VALUES ($1, $2)", [i, `row ${i}`]);
  marker(`committed-${i}`);
}
marker("checkpoint-begin");
await client.exec("CHECKPOINT");
marker("checkpointed");
await client.close();
marker("closed");
