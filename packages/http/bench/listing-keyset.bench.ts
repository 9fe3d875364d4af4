/**
 * What a deep album page costs by OFFSET and by cursor (keyset), on server Postgres: 100,000 images in
 * one album (plus 10,000 in another, and in another tenant), 100 per page. Times page 1, page 1,000 by
 * offset, page 1,000 from the cursor of page 999's last image, and page 999 from the prev cursor of
 * page 1,000, through the repository (which also counts the album, in the same snapshot) and as the
 * page statement alone; prints the p50 of each and the plans. Works in a schema of its own, dropped
 * at the end.
 *
 *   IMAGE_API_TEST_DATABASE_URL=postgres://… npx tsx --conditions=@image-api/source packages/http/bench/listing-keyset.bench.ts [runs]
 */
import { performance } from "node:perf_hooks";
import { createPgPoolClient, migrate, postgresImageRepository, type SqlClient, type SqlExecutor } from "@image-api/adapters";
import { DEFAULT_TENANT, type AlbumId, type AlbumPageRequest, type ImageId } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import pg from "pg";

const URL = process.env["IMAGE_API_TEST_DATABASE_URL"] ?? process.env["IMAGE_API_DATABASE_URL"];
if (!URL) throw new Error("set IMAGE_API_TEST_DATABASE_URL to a server Postgres");
const RUNS = Number(process.argv[2] ?? 50);
const ROWS = 100_000;
const PER_PAGE = 100;
const ALBUM = "BENCHKEYSET0001" as AlbumId;
const SCHEMA = `bench_keyset_${process.pid}`;

const admin = new pg.Client({ connectionString: URL });
await admin.connect();
await admin.query(`CREATE SCHEMA ${SCHEMA}`);
/** For the page statements on their own, outside the repository's transaction. */
const direct = new pg.Client({ connectionString: URL, options: `-c search_path=${SCHEMA}` });
await direct.connect();

/** Every statement the repository sends, so the plans are those of the exact SQL it runs. */
const seen: { text: string; params: readonly unknown[] }[] = [];
const base = createPgPoolClient({ connectionString: URL, schema: SCHEMA, max: 2, queryTimeoutMillis: 60_000 });
const record = (tx: SqlExecutor): SqlExecutor => ({ ...tx, query: (text, params = []) => (seen.push({ text, params }), tx.query(text, params)) });
const client: SqlClient = { ...base, transaction: (fn) => base.transaction((tx) => fn(record(tx))) };

try {
  const migrated = await migrate(base)();
  if (E.isLeft(migrated)) throw new Error(migrated.left.message);
  const fill = async (album: string, tenant: string, rows: number, from: number) => {
    // Three images to each second, so pages meet inside runs of equal created_at; one blob each.
    await admin.query(
      `INSERT INTO ${SCHEMA}.blobs (key, refs, format, content_type, bytes, etag, version)
       SELECT 'bench-' || g, 1, 'png', 'image/png', 3604, md5(g::text), 1 FROM generate_series($1::int, $2::int) g`,
      [from, from + rows - 1],
    );
    await admin.query(
      `INSERT INTO ${SCHEMA}.images (id, tenant, album_id, blob_key, original_width, original_height, filename, infos, exifs, metadatas,
                                     rotation, color, processed, created_at, updated_at, version)
       SELECT md5('image' || g)::uuid, $3, $4, 'bench-' || g, 48, 48, 'Image ' || g, '{"format":"png"}', '{}', '{}',
              0, '#7D7D7D', true, t, t, 1
         FROM generate_series($1::int, $2::int) g, LATERAL (SELECT timestamptz '2024-01-01' + (g / 3) * interval '1 second' AS t) s`,
      [from, from + rows - 1, tenant, album],
    );
  };
  await fill(ALBUM, DEFAULT_TENANT, ROWS, 1);
  await fill("BENCHKEYSETOTHER", DEFAULT_TENANT, 10_000, ROWS + 1);
  await fill(ALBUM, "other-tenant", 10_000, ROWS + 10_001);
  await admin.query(`VACUUM ANALYZE ${SCHEMA}.images`);
  await admin.query(`VACUUM ANALYZE ${SCHEMA}.blobs`);

  const repo = postgresImageRepository(client);
  const list = async (page: AlbumPageRequest) => {
    const r = await repo.listByAlbum(DEFAULT_TENANT, ALBUM, page)();
    if (E.isLeft(r)) throw new Error(r.left.message);
    return r.right;
  };
  // Where pages 999 and 1,000 meet, read by offset once.
  const p999 = await list({ offset: 998 * PER_PAGE, limit: PER_PAGE });
  const p1000 = await list({ offset: 999 * PER_PAGE, limit: PER_PAGE });
  const last = p999.items.at(-1)!;
  const first = p1000.items[0]!;
  const cases: [string, AlbumPageRequest][] = [
    ["page 1", { offset: 0, limit: PER_PAGE }],
    ["page 1,000 by OFFSET", { offset: 999 * PER_PAGE, limit: PER_PAGE }],
    // As the command asks: one row more, to know whether a next page exists.
    ["page 1,000 by cursor", { offset: 0, limit: PER_PAGE + 1, after: { createdAt: last.createdAt, id: last.id as ImageId } }],
    // Its prev link: the images just newer than its first one.
    ["page 999 by prev cursor", { offset: 0, limit: PER_PAGE + 1, before: { createdAt: first.createdAt, id: first.id as ImageId } }],
  ];
  const ids = (items: readonly { id: string }[]) => JSON.stringify(items.map((i) => i.id));
  if (ids(p1000.items) !== ids((await list(cases[2]![1])).items.slice(0, PER_PAGE))) throw new Error("page 1,000 differs by offset and by cursor");
  if (ids(p999.items) !== ids((await list(cases[3]![1])).items.slice(-PER_PAGE))) throw new Error("page 999 differs by offset and by prev cursor");

  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const timed = async (work: () => Promise<unknown>) => {
    const t0 = performance.now();
    await work();
    return performance.now() - t0;
  };
  const plan = async (text: string, params: readonly unknown[]) =>
    (await direct.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${text}`, [...params])).rows.map((r) => r["QUERY PLAN"]).join("\n");

  type Statement = (typeof seen)[number];
  const measured: { name: string; page: AlbumPageRequest; statement: Statement; count: Statement; whole: number[]; alone: number[] }[] = [];
  for (const [name, page] of cases) {
    seen.length = 0;
    await list(page);
    const statement = seen.find((s) => s.text.includes("ORDER BY"))!;
    const count = seen.find((s) => s.text.includes("count(*)"))!;
    measured.push({ name, page, statement, count, whole: [], alone: [] });
  }
  // Rounds interleave the cases, so none of them gets a warmer cache or a quieter machine; 5 to warm up.
  for (let round = -5; round < RUNS; round++)
    for (const m of measured) {
      const whole = await timed(() => list(m.page));
      const alone = await timed(() => direct.query(m.statement.text, [...m.statement.params]));
      if (round >= 0) m.whole.push(whole), m.alone.push(alone);
    }

  const lines = [
    `${ROWS.toLocaleString("en")} images in the album, ${PER_PAGE} per page, p50 of ${RUNS} runs (ms)`,
    "",
    "| | listByAlbum (count + page, one transaction) | page statement alone |",
    "|---|---:|---:|",
    ...measured.map((m) => `| ${m.name} | ${p50(m.whole).toFixed(2)} | ${p50(m.alone).toFixed(2)} |`),
  ];
  const plans: string[] = [];
  for (const m of measured) plans.push(`-- ${m.name}\n${m.statement.text}\n${await plan(m.statement.text, m.statement.params)}`);
  plans.push(`-- the count, on every page\n${measured[0]!.count.text}\n${await plan(measured[0]!.count.text, measured[0]!.count.params)}`);
  console.log(`${lines.join("\n")}\n\n${plans.join("\n\n")}`);
} finally {
  await base.close();
  await direct.end();
  await admin.query(`DROP SCHEMA ${SCHEMA} CASCADE`);
  await admin.end();
}
