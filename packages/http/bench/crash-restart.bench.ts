/**
 * The `crash-restart` case: how long the service on its embedded defaults (PGlite on disk, blobs on the
 * filesystem, a fresh data dir) takes to answer `/readyz` 200 again after a `kill -9` under write load,
 * against a restart after a clean stop, at BENCH_CRASH_IMAGES images (100,000; quick 10,000).
 *
 *   1. One image is uploaded over HTTP, the service stopped cleanly, and the album grown to the size
 *      with SQL on the embedded database, opened from this process (./database.ts's fillAlbum).
 *   2. The service is started (a clean start, timed), duplicates of that image are sent at
 *      BENCH_CONNECTIONS (32) for BENCH_CRASH_SECONDS (15; quick 5), and the process is killed with
 *      SIGKILL while they still run. Every duplicate answered 200 before the kill is remembered.
 *   3. The WAL written since the last checkpoint is read off the data dir (pg_control's redo pointer
 *      to the last WAL page written), the service restarted and timed from the spawn to `/readyz` 200
 *      (and to its first HTTP answer of any status: it listens before it opens the database).
 *   4. It is stopped cleanly and the database opened here: the images counted, and every acknowledged
 *      duplicate looked up by id. Then started again: the clean restart at the same size, timed.
 * Steps 2–4 run BENCH_CRASH_RUNS times (3; quick 1). Last, where a restart's time goes: copies of the
 * data dir taken right after the first kill, and the cleanly stopped one, are opened in this process
 * (three times each, medians kept), durably as the service does and with fsync off; the open (the PGlite
 * runtime, and after a kill its recovery), the migrations and the search backfill's probe timed apart.
 */
import { cp, mkdtemp, open, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backfillSearchColumns, createPgliteClient, migrate, type SqlClient } from "@image-api/adapters";
import { databases, fillAlbum } from "./database.js";
import { ALBUM, authorization, SECRETS_ENV, tinyPng, upload } from "./fixtures.js";
import { median, runLoad, type LoadResult } from "./load.js";
import { startProcess, type ServerProcess } from "./processes.js";

export interface CrashRestartOptions {
  readonly quick: boolean;
  readonly postgresUrl: string;
}

/** The state pg_control records and the WAL a start after a crash has to replay. */
export interface WalState {
  /** pg_control's state: "in production" after a crash, "shut down" after a clean stop. */
  readonly state: string;
  /** From the last checkpoint's redo pointer to the end of the last WAL page written (8 kB precision). */
  readonly bytes: number;
}

export interface CrashCycle {
  /** Spawn to `/readyz` 200 after the kill. */
  readonly readyMs: number;
  /** Spawn to the first HTTP answer (of any status) after the kill. */
  readonly listeningMs: number;
  /** CPU time the restarted process had used once ready, all threads: what the machine's load does not stretch. */
  readonly readyCpuMs: number | null;
  readonly wal: WalState;
  /** Duplicates answered 200 before the kill, and the load's rate until then. */
  readonly acknowledged: number;
  readonly duplicatesPerSecond: number;
  /** Images counted after the restart. */
  readonly images: number;
  /** Acknowledged duplicates (of this and every earlier cycle) not found after the restart. */
  readonly missing: number;
}

export interface PhaseTimes {
  /** createPgliteClient on the data dir, as the service opens it (durable): the runtime's start, plus recovery after a crash. */
  readonly openMs: number;
  readonly migrateMs: number;
  readonly backfillMs: number;
  readonly closeMs: number;
}

export interface CrashRestartResult {
  readonly images: number;
  readonly fillMs: number;
  /** Spawn to `/readyz` 200 after each kill -9. */
  readonly crashes: readonly number[];
  readonly maxMs: number;
  /** Median of the clean restarts at the same size (after the fill, and after each verification). */
  readonly cleanMs: number;
  readonly cleans: readonly number[];
  readonly targetMs: number;
  /** The slowest crash restart within the target; the target is set at 100,000 images (see atTargetSize). */
  readonly met: boolean;
  readonly atTargetSize: boolean;
  readonly acknowledgedChecked: number;
  readonly missing: number;
  /** Rows a duplicate in flight at a kill committed although its answer never arrived (counted, not lost). */
  readonly committedUnacknowledged: number;
  readonly walBytesBeforeKill: readonly number[];
  readonly cycles: readonly CrashCycle[];
  readonly cleanListeningMs: readonly number[];
  readonly cleanCpuMs: readonly (number | null)[];
  readonly breakdown: {
    readonly crashed: PhaseTimes;
    readonly clean: PhaseTimes;
    /**
     * The same two opened with fsync off (durable: false): Postgres then skips the fsync of the whole
     * data dir a start after a crash begins with, and its checkpoints sync nothing. Against the durable
     * opens, what the syncs cost; crashed against clean, what replaying the WAL and the end-of-recovery
     * checkpoint cost.
     */
    readonly crashedNoFsync: PhaseTimes;
    readonly cleanNoFsync: PhaseTimes;
    /** Opens of each kind; the figures are their medians. */
    readonly opens: number;
    /**
     * Postgres fsyncs every file and directory of the data dir before it replays the WAL of a crash
     * (SyncDataDirectory); the embedded database syncs their file system once instead and skips what did
     * not change since. This is the walk one fsync per entry would cost over a crashed copy, for scale.
     */
    readonly fsyncWalk: { readonly entries: number; readonly ms: number };
  };
  readonly loadSeconds: number;
  readonly connections: number;
  readonly seconds: number;
}

const TARGET_MS = 2000;
const TARGET_IMAGES = 100_000;

const positive = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got ${JSON.stringify(raw)})`);
  return n;
};

const log = (message: string) => console.error(`[crash-restart] ${message}`);

// pg_control's DBState, in the order of its enum.
const DB_STATES = ["starting up", "shut down", "shut down in recovery", "shutting down", "in crash recovery", "in archive recovery", "in production"];
const WAL_PAGE = 8192;

/**
 * Reads global/pg_control (the checkpoint's redo pointer at offset 40, after system_identifier,
 * pg_control_version, catalog_version_no, state and time) and the WAL segments from the redo's on: a
 * page written since its segment was last recycled carries its own address in its header.
 */
export const walSinceCheckpoint = async (dbDir: string): Promise<WalState> => {
  const control = await readFile(join(dbDir, "global", "pg_control"));
  const state = DB_STATES[control.readUInt32LE(16)] ?? `unknown (${control.readUInt32LE(16)})`;
  const redo = control.readBigUInt64LE(40);
  const segments = (await readdir(join(dbDir, "pg_wal"))).filter((n) => /^[0-9A-F]{24}$/.test(n)).sort();
  let end = redo;
  for (const name of segments) {
    const path = join(dbDir, "pg_wal", name);
    const size = BigInt((await stat(path)).size);
    // The name is the timeline, then the segment number as its high and low parts of 2^32 bytes each.
    const start = BigInt(`0x${name.slice(8, 16)}`) * (0x1_0000_0000n / size) * size + BigInt(`0x${name.slice(16, 24)}`) * size;
    if (start + size <= redo) continue;
    const bytes = await readFile(path);
    for (let offset = 0; offset + 16 <= bytes.length; offset += WAL_PAGE) {
      const page = start + BigInt(offset);
      if (bytes.readBigUInt64LE(offset + 8) === page && page + BigInt(WAL_PAGE) > end) end = page + BigInt(WAL_PAGE);
    }
  }
  return { state, bytes: Number(end - redo) };
};

/** Opens a data dir as the service does (durable unless told, no periodic checkpoint) and times each step of its start. */
const timedOpen = async (dbDir: string, durable = true): Promise<PhaseTimes> => {
  const t0 = performance.now();
  const sql = await createPgliteClient({ dataDir: dbDir, durable });
  const t1 = performance.now();
  try {
    const migrated = await migrate(sql)();
    if (migrated._tag === "Left") throw new Error(`migrating ${dbDir}: ${migrated.left.message}`);
    const t2 = performance.now();
    const filled = await backfillSearchColumns(sql)();
    if (filled._tag === "Left") throw new Error(`backfilling ${dbDir}: ${filled.left.message}`);
    if (filled.right > 0) throw new Error(`the backfill found ${filled.right} rows without search columns: the fill should have copied them`);
    const t3 = performance.now();
    await sql.close();
    return { openMs: t1 - t0, migrateMs: t2 - t1, backfillMs: t3 - t2, closeMs: performance.now() - t3 };
  } catch (e) {
    await sql.close().catch(() => undefined);
    throw e;
  }
};

/** Opens and fsyncs every file and directory under `root`, one at a time, as Postgres's start after a crash does. */
const fsyncEach = async (root: string): Promise<{ entries: number; ms: number }> => {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const paths = [root, ...entries.filter((e) => e.isFile() || e.isDirectory()).map((e) => join(e.parentPath, e.name))];
  const t0 = performance.now();
  for (const path of paths) {
    const handle = await open(path, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  return { entries: paths.length, ms: performance.now() - t0 };
};

const medians = (runs: readonly PhaseTimes[]): PhaseTimes => ({
  openMs: median(runs.map((r) => r.openMs)),
  migrateMs: median(runs.map((r) => r.migrateMs)),
  backfillMs: median(runs.map((r) => r.backfillMs)),
  closeMs: median(runs.map((r) => r.closeMs)),
});

const count = async (sql: SqlClient): Promise<number> => Number((await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM images")).rows[0]!.n);

/** How many of `ids` are not in images. */
const absent = async (sql: SqlClient, ids: readonly string[]): Promise<number> => {
  const { rows } = await sql.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM json_array_elements_text($1::json) a(id) WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.id = a.id::uuid)",
    [JSON.stringify(ids)],
  );
  return Number(rows[0]!.n);
};

export default async function crashRestart({ quick, postgresUrl }: CrashRestartOptions): Promise<CrashRestartResult> {
  const t0 = performance.now();
  const images = positive("BENCH_CRASH_IMAGES", quick ? 10_000 : TARGET_IMAGES);
  const runs = positive("BENCH_CRASH_RUNS", quick ? 1 : 3);
  const loadSeconds = positive("BENCH_CRASH_SECONDS", quick ? 5 : 15);
  const connections = positive("BENCH_CONNECTIONS", 32);
  const logLevel = process.env["BENCH_LOG_LEVEL"];

  const tmp = await mkdtemp(join(tmpdir(), "image-api-crash-restart-"));
  const dataDir = join(tmp, "data");
  const dbDir = join(dataDir, "db");
  // Taken right after the first kill and never opened: each timed open of a crashed state opens a copy of it.
  const crashedSnapshot = join(tmp, "crashed-db");
  const dbs = databases(postgresUrl);
  const env = { ...SECRETS_ENV, ...(logLevel ? { LOG_LEVEL: logLevel } : {}), IMAGE_API_DATA_DIR: dataDir };
  // Polled often: the figure is a start's wall time, which a coarse poll would round up.
  const start = () => startProcess({ name: "crash-restart", entry: "packages/http/src/main.ts", env, pollMs: 10 });
  let proc: ServerProcess | null = null;
  try {
    // The token's issuer is the run's shared secrets; its composition opens a database of its own.
    const auth = await authorization(await dbs.create(`image_api_bench_${process.pid}_crash`), join(tmp, "issuer"));
    const headers = { Authorization: auth };

    proc = await start();
    const source = await upload(proc.url, auth, ALBUM, await tinyPng());
    await proc.stop();
    proc = null;
    log(`filling the embedded database to ${images.toLocaleString("en")} images`);
    let fillMs: number;
    {
      const sql = await createPgliteClient({ dataDir: dbDir });
      try {
        fillMs = await fillAlbum(sql, source.id, images);
        const filled = await count(sql);
        if (filled !== images) throw new Error(`the fill left ${filled} images, not ${images}`);
      } finally {
        await sql.close();
      }
    }
    log(`filled in ${(fillMs / 1000).toFixed(1)} s`);

    proc = await start();
    const cleans = [proc.readyMs];
    const cleanListeningMs = [proc.listeningMs];
    const cleanCpuMs = [proc.readyCpuMs];
    const acknowledged: string[] = [];
    const cycles: CrashCycle[] = [];
    for (let run = 1; run <= runs; run++) {
      const running: ServerProcess = proc;
      const acks: string[] = [];
      // The load runs a second past the kill, so the kill lands with requests in flight.
      const killer = setTimeout(() => running.child.kill("SIGKILL"), loadSeconds * 1000);
      let load: LoadResult;
      try {
        load = await runLoad({
          url: `${running.url}/api/v1/images/${source.id}/duplicate`,
          method: "POST",
          headers,
          connections,
          seconds: loadSeconds + 1,
          onResponse: (status, body) => {
            if (status === 200) acks.push(String((JSON.parse(body) as { id: unknown }).id));
          },
        });
      } finally {
        clearTimeout(killer);
      }
      await running.stop();
      proc = null;
      if (running.child.signalCode !== "SIGKILL") throw new Error(`the service was not killed by SIGKILL (exit ${running.child.exitCode}, signal ${running.child.signalCode})`);
      if (acks.length === 0) throw new Error(`no duplicate was answered 200 before the kill (${load.failures} failures):\n${running.stderr()}`);
      acknowledged.push(...acks);
      const wal = await walSinceCheckpoint(dbDir);
      if (run === 1) await cp(dbDir, crashedSnapshot, { recursive: true });

      proc = await start();
      const restarted = proc;
      log(`crash ${run}/${runs}: ${acks.length} duplicates acknowledged, ${(wal.bytes / 1e6).toFixed(1)} MB of WAL since the checkpoint (${wal.state}); /readyz 200 after ${restarted.readyMs.toFixed(0)} ms`);
      await proc.stop();
      proc = null;

      const sql = await createPgliteClient({ dataDir: dbDir });
      let after: number;
      let missing: number;
      try {
        after = await count(sql);
        missing = await absent(sql, acknowledged);
      } finally {
        await sql.close();
      }
      cycles.push({
        readyMs: restarted.readyMs,
        listeningMs: restarted.listeningMs,
        readyCpuMs: restarted.readyCpuMs,
        wal,
        acknowledged: acks.length,
        duplicatesPerSecond: acks.length / loadSeconds,
        images: after,
        missing,
      });

      proc = await start();
      cleans.push(proc.readyMs);
      cleanListeningMs.push(proc.listeningMs);
      cleanCpuMs.push(proc.readyCpuMs);
      log(`clean restart: /readyz 200 after ${proc.readyMs.toFixed(0)} ms`);
    }
    await proc!.stop();
    proc = null;

    log("where a restart's time goes, in process");
    // The copy's own writes are flushed first, so that the timed walk finds every file on disk, as a restart mostly does.
    // Each open is repeated and the medians kept: single opens move by a few hundred ms with the machine's load.
    const opens = quick ? 1 : 3;
    let copies = 0;
    const crashedCopy = async (): Promise<string> => {
      const copy = join(tmp, `crashed-db-${++copies}`);
      await cp(crashedSnapshot, copy, { recursive: true });
      // The copy's own writes are flushed first, so that its open finds every file on disk, as a restart mostly does.
      await fsyncEach(copy);
      return copy;
    };
    const walked = await crashedCopy();
    const fsyncWalk = await fsyncEach(walked);
    await rm(walked, { recursive: true, force: true });
    const openCrashed = async (durable: boolean): Promise<PhaseTimes> => {
      const copy = await crashedCopy();
      try {
        return await timedOpen(copy, durable);
      } finally {
        await rm(copy, { recursive: true, force: true });
      }
    };
    const crashed: PhaseTimes[] = [];
    const crashedNoFsync: PhaseTimes[] = [];
    const clean: PhaseTimes[] = [];
    const cleanNoFsync: PhaseTimes[] = [];
    for (let i = 0; i < opens; i++) {
      crashed.push(await openCrashed(true));
      crashedNoFsync.push(await openCrashed(false));
      clean.push(await timedOpen(dbDir));
      cleanNoFsync.push(await timedOpen(dbDir, false));
    }

    const crashes = cycles.map((c) => c.readyMs);
    const maxMs = Math.max(...crashes);
    const last = cycles[cycles.length - 1]!;
    return {
      images,
      fillMs,
      crashes,
      maxMs,
      cleanMs: median(cleans),
      cleans,
      targetMs: TARGET_MS,
      met: maxMs <= TARGET_MS,
      atTargetSize: images >= TARGET_IMAGES,
      acknowledgedChecked: acknowledged.length,
      missing: last.missing,
      committedUnacknowledged: last.images - images - acknowledged.length + last.missing,
      walBytesBeforeKill: cycles.map((c) => c.wal.bytes),
      cycles,
      cleanListeningMs,
      cleanCpuMs,
      breakdown: { crashed: medians(crashed), clean: medians(clean), crashedNoFsync: medians(crashedNoFsync), cleanNoFsync: medians(cleanNoFsync), opens, fsyncWalk },
      loadSeconds,
      connections,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await proc?.stop();
    await dbs.dropAll();
    await rm(tmp, { recursive: true, force: true });
  }
}
