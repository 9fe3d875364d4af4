/**
 * Run by pglite-durability.test.ts under strace: opens a PGlite data dir, commits single-row inserts,
 * checkpoints and closes. Between steps it fsyncs an empty marker file named for the step, so the
 * trace shows which syncs happened before which step had resolved.
 *
 *   node --import tsx pglite-durability.child.ts <dataDir> <markerDir> <durable|relaxed> <inserts>
 */
import { closeSync, fsyncSync, openSync } from "node:fs";
import { join } from "node:path";
import { createPgliteClient } from "../src/postgres/pglite.sql-client.js";

const [dataDir, markerDir, mode, inserts] = process.argv.slice(2);
if (!dataDir || !markerDir || (mode !== "durable" && mode !== "relaxed") || !inserts) throw new Error("usage: <dataDir> <markerDir> <durable|relaxed> <inserts>");

const marker = (name: string): void => {
  const fd = openSync(join(markerDir, name), "w");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

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
