/**
 * The service's benchmark: ratios measured side by side in one run, so a loaded machine moves every
 * case alike. Every server under test is a process of its own; the load comes from this one.
 *
 * Load at BENCH_CONNECTIONS (32) for BENCH_DURATION seconds (10) per case, the cases alternated
 * BENCH_ROUNDS times (2) and the medians kept, each duplicating one hot 48×48 source image:
 *   ceiling  an Express 5 app replaying a recorded real duplicate response, doing no work
 *   memory   the service on the in-memory repository and blob store
 *   pglite   the service on its embedded defaults (PGlite + filesystem)
 *   pg       the service on server PostgreSQL (a fresh database, dropped at the end)
 *   sql      pgbench replaying the statements the service sent for one duplicate, recorded from the driver
 *   insert   pgbench running the service's own single-row INSERT of an image row, the database's floor
 * Then, one request at a time, on pglite and pg:
 *   xruntime X-Runtime p50/p99 of a duplicate
 *   size     a 48 MB image's duplicate against the 48×48 one's
 *   upload   a 12 MP JPEG's upload, its `mini` thumbnail's first render and a cached serve
 *   listing  (pg) page 1 against page 1,000 of a 100,000-image album
 *   search   GET /api/v1/search over a tenant of 100,000 images in 1,000 albums: a word of ~1 % of the
 *            images, a word of ten, a `version=2` filename substring and `*` (see ./search.ts)
 * And `floors` (./floors.ts): what this machine allows whatever the code, for the targets to be read
 * against: the recorded duplicate and the bare insert by pgbench with one client, and the embedded
 * database alone in a process of its own (its time per duplicate and its resident memory).
 * And last, `crash-restart`: the embedded defaults at 100,000 images, killed with SIGKILL under write load
 * and restarted, timed to `/readyz` 200 against a clean restart (see ./crash-restart.bench.ts).
 *
 *   npx -y pnpm@10.34.9 bench [-- --only=ceiling,pg,sql] [--crash-restart (adds it to an --only list)]
 *   BENCH_QUICK=1 (short runs, one round), BENCH_DURATION, BENCH_ROUNDS, BENCH_CONNECTIONS,
 *   BENCH_SEQUENTIAL (requests per sequential measurement), BENCH_LISTING_IMAGES,
 *   BENCH_SEARCH_IMAGES, BENCH_SEARCH_ALBUMS, BENCH_SEARCH_REQUESTS (of each search query),
 *   BENCH_SEARCH_PGLITE=1 (the search case on PGlite as well, after pg), BENCH_CRASH_IMAGES,
 *   BENCH_CRASH_RUNS (kills), BENCH_CRASH_SECONDS (of write load before each kill),
 *   BENCH_POSTGRES_URL (a server database to create the run's databases from; default
 *   postgres://postgres@127.0.0.1:5432/test), BENCH_LOG_LEVEL (the servers' LOG_LEVEL; default theirs).
 *
 * Writes results/bench.md and results/bench.json (results/bench.partial.* for a subset or a quick run)
 * and prints a one-line summary of the ratios last.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as E from "fp-ts/lib/Either.js";
import { loadConfig } from "../src/config.js";
import { startServer } from "../src/server.js";
import { databases, fillAlbum, pgbenchScript, recordStatements, runPgbench, type Databases, type PgbenchResult, type Statement } from "./database.js";
import { embeddedFloor, pgFloor } from "./floors.js";
import { ALBUM, authorization, LISTING_ALBUM, noisePng, photoJpeg, SECRETS_ENV, tinyPng, upload, type Picture } from "./fixtures.js";
import { median, percentile, runLoad, send, sequential, summarize, type LoadResult, type Reply, type SequentialSummary } from "./load.js";
import { buildServers, startProcess, type ServerProcess } from "./processes.js";
import { renderMarkdown, summaryLine, targetsOf, type BenchResults, type CaseResult } from "./report.js";
import { searchCase } from "./search.js";

const env = process.env;
const QUICK = env["BENCH_QUICK"] === "1";
const num = (name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got ${JSON.stringify(raw)})`);
  return n;
};
const SETTINGS = {
  quick: QUICK,
  seconds: num("BENCH_DURATION", QUICK ? 3 : 10),
  rounds: num("BENCH_ROUNDS", QUICK ? 1 : 2),
  connections: num("BENCH_CONNECTIONS", 32),
  warmupSeconds: QUICK ? 1 : 3,
  sequential: num("BENCH_SEQUENTIAL", QUICK ? 100 : 500),
  uploads: QUICK ? 2 : 5,
  listingImages: num("BENCH_LISTING_IMAGES", 100_000),
  listingPerPage: 100,
  listingRequests: QUICK ? 20 : 60,
  searchImages: num("BENCH_SEARCH_IMAGES", 100_000),
  searchAlbums: num("BENCH_SEARCH_ALBUMS", 1000),
  searchRequests: num("BENCH_SEARCH_REQUESTS", QUICK ? 50 : 200),
  searchPglite: env["BENCH_SEARCH_PGLITE"] === "1",
  largeImageMegabytes: 48,
  postgres: env["BENCH_POSTGRES_URL"] ?? "postgres://postgres@127.0.0.1:5432/test",
  logLevel: env["BENCH_LOG_LEVEL"],
};

export const LOAD_CASES = ["ceiling", "memory", "pglite", "pg", "sql", "insert"] as const;
export const EXTRA_CASES = ["xruntime", "size", "upload", "listing", "search", "floors"] as const;
type LoadCase = (typeof LOAD_CASES)[number];
type Backend = "memory" | "pglite" | "pg";

const { values: args } = parseArgs({
  // `pnpm bench -- --only=…` hands the `--` on.
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { only: { type: "string" }, "crash-restart": { type: "boolean", default: false }, help: { type: "boolean", default: false } },
});
if (args.help) {
  console.log(`usage: bench [--only=${[...LOAD_CASES, ...EXTRA_CASES, "crash-restart"].join(",")}] [--crash-restart]`);
  process.exit(0);
}
const known = new Set<string>([...LOAD_CASES, ...EXTRA_CASES, "crash-restart"]);
const only = args.only ? new Set(args.only.split(",").map((s) => s.trim()).filter(Boolean)) : null;
for (const name of only ?? []) if (!known.has(name)) throw new Error(`unknown case ${name}; known: ${[...known].join(", ")}`);
const selected = (name: string): boolean => (only ? only.has(name) || (name === "crash-restart" && args["crash-restart"]) : true);

const NO_WORK_ID = "00000000-0000-4000-8000-000000000001";

const log = (message: string) => console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}`);
const started = performance.now();

interface Service {
  readonly backend: Backend;
  readonly proc: ServerProcess;
  readonly sourceId: string;
  readonly duplicateUrl: string;
}

const main = async () => {
  const startedAt = new Date();
  // Every server runs compiled: a build that fails ends the run with the compiler's output.
  log("building the workspace and the bench's server entries");
  await buildServers();
  const tmp = await mkdtemp(join(tmpdir(), "image-api-bench-"));
  // Connects only once a database is created.
  const dbs = databases(SETTINGS.postgres);
  const loadCases = LOAD_CASES.filter(selected);
  const extras = EXTRA_CASES.filter(selected);
  // The listing fills the pg service's database; the search case starts services of its own.
  const sequentialExtras = extras.some((e) => e !== "listing" && e !== "search" && e !== "floors");
  const backends: Backend[] = (["memory", "pglite", "pg"] as const).filter(
    (b) => loadCases.includes(b) || (b !== "memory" && sequentialExtras) || (b === "pg" && extras.includes("listing")),
  );
  const services = new Map<Backend, Service>();
  let ceiling: ServerProcess | null = null;
  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    seconds: 0,
    machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "", loadAverage: loadavg() },
    settings: { ...SETTINGS, postgres: SETTINGS.postgres.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@") },
    selected: [...loadCases, ...extras, ...(selected("crash-restart") ? ["crash-restart"] : [])],
    partial: only !== null || QUICK,
    cases: {},
    sequential: {},
    size: {},
    uploads: {},
    notes: [
      `The load generator shares the machine's ${cpus().length} cores with the server it loads and with PostgreSQL.`,
      "Servers run their compiled JavaScript under plain node; the ceiling's RSS shows what Node and Express take on their own.",
      "The service's pg pool has IMAGE_API_DB_POOL_SIZE connections (default 10); pgbench opens one per client.",
    ],
  };

  try {
    // The in-process compositions (the token's issuer, the recorded SQL) use a database of their own.
    const inProcess = await dbs.create(`image_api_bench_${process.pid}_sql`);
    const auth = await authorization(inProcess, join(tmp, "in-process"));
    const headers = { Authorization: auth };
    const tiny = await tinyPng();
    // The statements one duplicate sends, recorded from the driver.
    if (loadCases.includes("sql") || loadCases.includes("insert") || extras.includes("floors")) {
      log("recording the SQL of one upload and one duplicate");
      results.sql = await recordServiceSql(inProcess, join(tmp, "in-process"), tiny, auth);
    }

    log(`starting ${backends.join(", ") || "no"} service processes`);
    await Promise.all(
      backends.map(async (backend) => {
        services.set(backend, await startService(backend, dbs, tmp, tiny, auth));
      }),
    );

    if (loadCases.includes("ceiling")) {
      // A real duplicate response, recorded from a service of this run (or one started for it).
      const from = services.get("pg") ?? services.get("pglite") ?? services.get("memory") ?? (await startService("memory", dbs, tmp, tiny, auth));
      const reply = await send(from.duplicateUrl, "POST", headers);
      if (reply.status !== 200) throw new Error(`recording a duplicate answered ${reply.status}`);
      if (!services.has(from.backend)) await from.proc.stop();
      const replay = join(tmp, "duplicate-response.json");
      await writeFile(replay, JSON.stringify({ status: reply.status, headers: reply.rawHeaders, body: reply.body.toString("base64") }));
      results.replayed = { from: from.backend, bodyBytes: reply.body.byteLength, headers: reply.rawHeaders.map(([n]) => n) };
      ceiling = await startProcess({ name: "ceiling", entry: "packages/http/bench/ceiling-service.ts", env: { BENCH_REPLAY: replay } });
    }

    // One measured run of a case.
    const runCase = async (name: LoadCase, seconds: number): Promise<LoadResult | PgbenchResult> => {
      if (name === "sql" || name === "insert") {
        const sql = results.sql!;
        return runPgbench(sql.url, name === "sql" ? sql.duplicateScriptFile : sql.insertScriptFile, SETTINGS.connections, seconds);
      }
      // The ceiling answers any id alike.
      const { url, pid } = name === "ceiling" ? { url: `${ceiling!.url}/api/v1/images/${NO_WORK_ID}/duplicate`, pid: ceiling!.pid } : { url: services.get(name)!.duplicateUrl, pid: services.get(name)!.proc.pid };
      return runLoad({ url, method: "POST", headers, connections: SETTINGS.connections, seconds, pid });
    };

    log(`warming up ${loadCases.join(", ")}`);
    for (const name of loadCases) await runCase(name, SETTINGS.warmupSeconds);

    const rounds = new Map<LoadCase, (LoadResult | PgbenchResult)[]>(loadCases.map((c) => [c, []]));
    for (let round = 1; round <= SETTINGS.rounds; round++) {
      for (const name of loadCases) {
        const r = await runCase(name, SETTINGS.seconds);
        rounds.get(name)!.push(r);
        log(`round ${round} ${name}: ${"tps" in r ? `${r.tps.toFixed(0)} tps` : `${r.rps.toFixed(0)} req/s, p99 ${r.p99Ms.toFixed(1)} ms`}`);
      }
    }
    for (const [name, runs] of rounds) results.cases[name] = caseResult(runs);

    for (const backend of ["pglite", "pg"] as const) {
      const service = services.get(backend);
      if (!service) continue;
      if (extras.includes("xruntime")) {
        log(`${backend}: sequential duplicates`);
        results.sequential[backend] = summarize(await sequential(SETTINGS.sequential, 50, () => send(service.duplicateUrl, "POST", headers)));
      }
      if (extras.includes("size")) {
        log(`${backend}: ${SETTINGS.largeImageMegabytes} MB against 48×48`);
        results.size[backend] = await sizeIndependence(service, auth, await noisePng(SETTINGS.largeImageMegabytes), tiny);
      }
    }
    if (extras.includes("upload")) {
      const pictures: Picture[] = [];
      for (let i = 0; i < SETTINGS.uploads; i++) pictures.push(await photoJpeg(i));
      for (const backend of ["pglite", "pg"] as const) {
        const service = services.get(backend);
        if (!service) continue;
        log(`${backend}: 12 MP uploads and thumbnails`);
        results.uploads[backend] = await uploads(service, auth, pictures);
      }
    }
    if (extras.includes("listing") && services.has("pg")) {
      log(`pg: filling a ${SETTINGS.listingImages.toLocaleString("en")}-image album`);
      results.listing = await listing(services.get("pg")!, dbs, auth);
    }

    if (extras.includes("search")) {
      for (const backend of SETTINGS.searchPglite ? (["pg", "pglite"] as const) : (["pg"] as const)) {
        results.search = {
          ...results.search,
          [backend]: await searchCase({
            backend,
            dbs,
            tmp,
            corpus: { images: SETTINGS.searchImages, albums: SETTINGS.searchAlbums },
            requests: SETTINGS.searchRequests,
            breakdownRuns: QUICK ? 10 : 30,
            verifySample: 500,
            uploadAuth: auth,
            issuerDatabaseUrl: inProcess,
            env: serviceEnv,
            log,
          }),
        };
      }
    }

    if (extras.includes("floors")) {
      log("floors: pgbench with one client, the embedded database alone");
      const sql = results.sql!;
      results.floors = {
        pg: await pgFloor(sql.url, { duplicate: sql.duplicateScriptFile, insert: sql.insertScriptFile }, QUICK ? 2 : 5),
        embedded: await embeddedFloor(tmp, SETTINGS.sequential * 2),
      };
    }

    if (selected("crash-restart")) results.crashRestart = await crashRestart();
  } finally {
    log("stopping");
    await Promise.all([...services.values()].map((s) => s.proc.stop()));
    await ceiling?.stop();
    await dbs.dropAll();
    await rm(tmp, { recursive: true, force: true });
  }

  results.seconds = (performance.now() - started) / 1000;
  results.machine.loadAverageAtEnd = loadavg();
  results.targets = targetsOf(results);
  results.summary = summaryLine(results);
  // Only a full run replaces the recorded results; a subset or a quick run goes beside them.
  const dir = new URL("./results/", import.meta.url).pathname;
  const name = only || QUICK ? "bench.partial" : "bench";
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(dir, `${name}.md`), renderMarkdown(results));
  console.log(renderMarkdown(results));
  log(`wrote packages/http/bench/results/${name}.md and ${name}.json`);
  console.log(results.summary);
};

const caseResult = (runs: readonly (LoadResult | PgbenchResult)[]): CaseResult => {
  const rate = (r: LoadResult | PgbenchResult) => ("tps" in r ? r.tps : r.rps);
  const http = runs.filter((r): r is LoadResult => !("tps" in r));
  const db = runs.filter((r): r is PgbenchResult => "tps" in r);
  const rss = http.map((r) => r.rssMaxBytes).filter((b): b is number => b !== null);
  return {
    kind: db.length > 0 ? "pgbench" : "http",
    perSecond: median(runs.map(rate)),
    rounds: runs.map(rate),
    ...(http.length > 0
      ? {
          p50Ms: median(http.map((r) => r.p50Ms)),
          p99Ms: median(http.map((r) => r.p99Ms)),
          failures: http.reduce((n, r) => n + r.failures, 0),
          requests: http.reduce((n, r) => n + r.requests, 0),
          ...(rss.length > 0 ? { rssMaxBytes: Math.max(...rss) } : {}),
        }
      : {
          latencyAverageMs: median(db.map((r) => r.latencyAverageMs)),
          failures: db.reduce((n, r) => n + r.failed, 0),
          requests: db.reduce((n, r) => n + r.transactions, 0),
        }),
  };
};

const serviceEnv = (extra: Record<string, string>): Record<string, string> => ({
  ...SECRETS_ENV,
  ...(SETTINGS.logLevel ? { LOG_LEVEL: SETTINGS.logLevel } : {}),
  ...extra,
});

/** A service process with the hot source image uploaded, and a duplicate of it answered 200. */
const startService = async (backend: Backend, dbs: Databases, tmp: string, source: Picture, auth: string): Promise<Service> => {
  const dataDir = join(tmp, backend);
  const proc = await startProcess(
    backend === "memory"
      ? { name: backend, entry: "packages/http/bench/memory-service.ts", env: serviceEnv({ IMAGE_API_DATA_DIR: dataDir }) }
      : backend === "pglite"
        ? { name: backend, entry: "packages/http/src/main.ts", env: serviceEnv({ IMAGE_API_DATA_DIR: dataDir }) }
        : {
            name: backend,
            entry: "packages/http/src/main.ts",
            env: serviceEnv({ IMAGE_API_DATA_DIR: dataDir, IMAGE_API_DATABASE_URL: await dbs.create(`image_api_bench_${process.pid}_service`) }),
          },
  );
  try {
    const { id } = await upload(proc.url, auth, ALBUM, source);
    const duplicateUrl = `${proc.url}/api/v1/images/${id}/duplicate`;
    const check = await send(duplicateUrl, "POST", { Authorization: auth });
    if (check.status !== 200) throw new Error(`${backend}: a duplicate answered ${check.status}: ${check.body.toString().slice(0, 300)}`);
    return { backend, proc, sourceId: id, duplicateUrl };
  } catch (e) {
    await proc.stop();
    throw e;
  }
};

export interface SqlCapture {
  readonly url: string;
  readonly duplicate: readonly Statement[];
  readonly insert: Statement;
  readonly duplicateScript: string;
  readonly insertScript: string;
  readonly duplicateScriptFile: string;
  readonly insertScriptFile: string;
}

/**
 * Runs the service in this process on a fresh database, uploads the source image and duplicates it
 * once over HTTP while the driver's statements are recorded. The duplicate's statements become the
 * `sql` script; the upload's INSERT of the image row becomes the `insert` one. New ids turn into
 * gen_random_uuid() and the request's timestamps into now(); the rest is inlined as sent.
 */
const recordServiceSql = async (url: string, dataDir: string, source: Picture, auth: string): Promise<SqlCapture> => {
  const config = loadConfig({ ...SECRETS_ENV, IMAGE_API_DATABASE_URL: url, IMAGE_API_DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" });
  if (E.isLeft(config)) throw new Error(config.left.join("; "));
  const running = await startServer(config.right);
  const recorder = recordStatements();
  try {
    const uploaded = await recorder.record(() => upload(running.url, auth, ALBUM, source));
    const copied = await recorder.record(() => send(`${running.url}/api/v1/images/${uploaded.result.id}/duplicate`, "POST", { Authorization: auth }));
    if (copied.result.status !== 200) throw new Error(`the recorded duplicate answered ${copied.result.status}`);
    if (copied.statements.length === 0) throw new Error("no statement was recorded: the driver's client was not the one patched");
    const copyId = String((JSON.parse(copied.result.body.toString()) as { id: unknown }).id);
    const at = new Date();
    const insert = uploaded.statements.find((s) => /^\s*INSERT\s+INTO\s+images\b/i.test(s.text));
    if (!insert) throw new Error("the upload sent no INSERT INTO images to replay as the bare insert");
    const duplicateScript = pgbenchScript(copied.statements, { newIds: new Set([copyId]), at });
    const insertScript = pgbenchScript([insert], { newIds: new Set([uploaded.result.id]), at });
    await mkdir(dataDir, { recursive: true });
    const duplicateScriptFile = join(dataDir, "duplicate.pgbench.sql");
    const insertScriptFile = join(dataDir, "insert.pgbench.sql");
    await writeFile(duplicateScriptFile, duplicateScript);
    await writeFile(insertScriptFile, insertScript);
    return { url, duplicate: copied.statements, insert, duplicateScript, insertScript, duplicateScriptFile, insertScriptFile };
  } finally {
    recorder.restore();
    await running.stop();
  }
};

export interface SizeResult {
  readonly largeBytes: number;
  readonly smallBytes: number;
  readonly small: SequentialSummary;
  readonly large: SequentialSummary;
  /** p50 of the large image's duplicate over the small one's, client side. */
  readonly ratio: number;
  readonly runtimeRatio: number;
}

/** Duplicates of a large and a small image, interleaved one at a time. */
const sizeIndependence = async (service: Service, auth: string, large: Picture, small: Picture): Promise<SizeResult> => {
  const big = await upload(service.proc.url, auth, ALBUM, large);
  const bigUrl = `${service.proc.url}/api/v1/images/${big.id}/duplicate`;
  const headers = { Authorization: auth };
  const half = Math.max(20, Math.floor(SETTINGS.sequential / 2));
  let turn = 0;
  const both = await sequential(half * 2, 20, () => send(turn++ % 2 === 0 ? service.duplicateUrl : bigUrl, "POST", headers));
  // Warm-up took an even number of turns, so even samples are the small image's.
  const s = summarize(both.filter((_, i) => i % 2 === 0));
  const l = summarize(both.filter((_, i) => i % 2 === 1));
  return { largeBytes: large.bytes.byteLength, smallBytes: small.bytes.byteLength, small: s, large: l, ratio: l.p50Ms / s.p50Ms, runtimeRatio: l.runtimeP50Ms / s.runtimeP50Ms };
};

export interface UploadResult {
  readonly count: number;
  readonly bytesEach: number;
  readonly uploadP50Ms: number;
  readonly firstRenderP50Ms: number;
  readonly cachedP50Ms: number;
  readonly miniBytes: number;
}

/** 12 MP JPEG uploads, then each one's `mini` thumbnail: once rendered, then served from the cache. */
const uploads = async (service: Service, auth: string, pictures: readonly Picture[]): Promise<UploadResult> => {
  const uploadMs: number[] = [];
  const firstMs: number[] = [];
  const cachedMs: number[] = [];
  let miniBytes = 0;
  for (const picture of pictures) {
    const t0 = performance.now();
    const { json } = await upload(service.proc.url, auth, ALBUM, picture);
    uploadMs.push(performance.now() - t0);
    const mini = (json["thumbnails"] as Record<string, string> | undefined)?.["mini"];
    if (!mini) throw new Error("the uploaded image's JSON has no thumbnails.mini");
    for (let i = 0; i < 11; i++) {
      const t1 = performance.now();
      const reply = await send(mini, "GET");
      const ms = performance.now() - t1;
      if (reply.status !== 200) throw new Error(`thumbnail answered ${reply.status}`);
      miniBytes = reply.body.byteLength;
      (i === 0 ? firstMs : cachedMs).push(ms);
    }
  }
  return {
    count: pictures.length,
    bytesEach: Math.round(pictures.reduce((n, p) => n + p.bytes.byteLength, 0) / pictures.length),
    uploadP50Ms: percentile(uploadMs, 50),
    firstRenderP50Ms: percentile(firstMs, 50),
    cachedP50Ms: percentile(cachedMs, 50),
    miniBytes,
  };
};

export interface ListingResult {
  readonly images: number;
  readonly perPage: number;
  readonly fillMs: number;
  readonly fill: string;
  readonly first: SequentialSummary;
  /** The deep page as a client paging through reaches it: the `next` link of the page before, which carries a cursor. */
  readonly deep: SequentialSummary;
  /** The same page asked for by number (`?page=`), which reads past every row before it. */
  readonly deepByNumber: SequentialSummary;
  readonly deepPage: number;
  /** deep (by cursor) / first. */
  readonly ratio: number;
  readonly byNumberRatio: number;
}

/** Page 1 against a deep page of a large album on server PostgreSQL, by cursor and by number, interleaved one at a time. */
const listing = async (service: Service, dbs: Databases, auth: string): Promise<ListingResult> => {
  const source = await upload(service.proc.url, auth, LISTING_ALBUM, await tinyPng());
  const fillMs = await fillAlbum(dbs.url(`image_api_bench_${process.pid}_service`), source.id, SETTINGS.listingImages);
  const perPage = SETTINGS.listingPerPage;
  const deepPage = Math.max(2, Math.min(1000, Math.floor(SETTINGS.listingImages / perPage)));
  const page = (n: number) => `${service.proc.url}/api/v1/albums/${LISTING_ALBUM}/images?page=${n}&per_page=${perPage}`;
  const headers = { Authorization: auth };
  const check: Reply = await send(page(deepPage), "GET", headers);
  const total = Number(check.headers["x-total-count"]);
  if (check.status !== 200 || total !== SETTINGS.listingImages) throw new Error(`listing answered ${check.status} with X-Total-Count ${total}`);
  // The page before's `next` link, as a client paging through follows it.
  const before: Reply = await send(page(deepPage - 1), "GET", headers);
  const link = /<([^>]+)>;\s*rel="next"/.exec(String(before.headers["link"] ?? ""))?.[1];
  if (!link || !link.includes("cursor=")) throw new Error(`page ${deepPage - 1} has no next link with a cursor: ${String(before.headers["link"])}`);
  const next = new URL(link, service.proc.url).href;
  const byCursor: Reply = await send(next, "GET", headers);
  if (byCursor.status !== 200 || !byCursor.body.equals(check.body)) throw new Error(`page ${deepPage} differs by cursor and by number`);
  let turn = 0;
  const urls = [page(1), next, page(deepPage)];
  // A whole number of turns to warm up, so the i-th measured request is urls[i % 3].
  const all = await sequential(SETTINGS.listingRequests * 3, 4 * urls.length, () => send(urls[turn++ % urls.length]!, "GET", headers));
  const first = summarize(all.filter((_, i) => i % 3 === 0));
  const deep = summarize(all.filter((_, i) => i % 3 === 1));
  const deepByNumber = summarize(all.filter((_, i) => i % 3 === 2));
  return {
    images: SETTINGS.listingImages,
    perPage,
    fillMs,
    fill: "one INSERT … SELECT over generate_series copying the uploaded source row (new id, older created_at), blob refs raised to match, then VACUUM (ANALYZE)",
    first,
    deep,
    deepByNumber,
    deepPage,
    ratio: deep.p50Ms / first.p50Ms,
    byNumberRatio: deepByNumber.p50Ms / first.p50Ms,
  };
};

/**
 * ./crash-restart.bench.ts, when present: its exported async function (the default export, or the
 * first function it exports) is awaited, and the record of figures it resolves to is reported as is.
 */
const crashRestart = async (): Promise<Record<string, unknown>> => {
  const file = new URL("./crash-restart.bench.ts", import.meta.url);
  if (!existsSync(file)) return { status: "not present: packages/http/bench/crash-restart.bench.ts" };
  log("crash-restart");
  const mod = (await import(file.href)) as Record<string, unknown>;
  const fn = (typeof mod["default"] === "function" ? mod["default"] : Object.values(mod).find((v) => typeof v === "function")) as
    | ((options: { quick: boolean; postgresUrl: string }) => Promise<unknown>)
    | undefined;
  if (!fn) return { status: "crash-restart.bench.ts exports no function" };
  const figures = await fn({ quick: QUICK, postgresUrl: SETTINGS.postgres });
  return figures && typeof figures === "object" ? (figures as Record<string, unknown>) : { result: figures };
};

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
