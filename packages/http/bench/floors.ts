/**
 * What this machine allows, measured in the same run as the targets: the parts of a duplicate that no
 * code of the service's own can take away, so the report can set each target against its floor.
 *
 * - Server PostgreSQL: the duplicate's recorded SQL replayed by pgbench with one client, durable as
 *   the service commits, and again with `synchronous_commit=off` (the difference is the commit's wait
 *   for its WAL flush); and the bare single-row INSERT, durable. The service's X-Runtime on pg includes
 *   the first, plus the driver and Node.
 * - The embedded database: ./embedded-floor.child.ts, PGlite opened as the service opens it (durable,
 *   in its worker thread) in a process with nothing else loaded, duplicating through the repository
 *   one call at a time: its p50 is what the embedded service's X-Runtime includes before any HTTP,
 *   and its resident memory what the embedded service's includes before it serves anything.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { runPgbench, type PgbenchResult } from "./database.js";
import { compiledEntry, ROOT } from "./processes.js";

export interface EmbeddedFloor {
  readonly count: number;
  readonly openMs: number;
  /** The process before it opened anything: Node.js and the modules it imported. */
  readonly baselineRssMb: number;
  readonly openedRssMb: number;
  /** After the duplicates. */
  readonly loadedRssMb: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface PgFloor {
  /** pgbench, one client, the service's settings: mean ms per duplicate. */
  readonly durableMs: number;
  readonly durableTps: number;
  /** The same with `synchronous_commit=off`: no wait for the WAL flush. */
  readonly noFlushMs: number;
  /** The bare single-row INSERT, one client, durable: mean ms. */
  readonly insertMs: number;
}

export interface Floors {
  readonly pg?: PgFloor;
  readonly embedded?: EmbeddedFloor;
}

const oneClient = (url: string, script: string, seconds: number, settings: readonly string[] = []): Promise<PgbenchResult> =>
  runPgbench(url, script, 1, seconds, 1, settings);

/** pgbench with one client: the recorded duplicate durable and without the flush, and the bare insert, alternated twice; the mean of each pair. */
export const pgFloor = async (url: string, scripts: { readonly duplicate: string; readonly insert: string }, seconds: number): Promise<PgFloor> => {
  const durable: PgbenchResult[] = [];
  const noFlush: PgbenchResult[] = [];
  const insert: PgbenchResult[] = [];
  for (let round = 0; round < 2; round++) {
    durable.push(await oneClient(url, scripts.duplicate, seconds));
    noFlush.push(await oneClient(url, scripts.duplicate, seconds, ["synchronous_commit=off"]));
    insert.push(await oneClient(url, scripts.insert, seconds));
  }
  const mean = (runs: readonly PgbenchResult[], pick: (r: PgbenchResult) => number): number => runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
  const latency = (r: PgbenchResult) => r.latencyAverageMs;
  return { durableMs: mean(durable, latency), durableTps: mean(durable, (r) => r.tps), noFlushMs: mean(noFlush, latency), insertMs: mean(insert, latency) };
};

/** Runs ./embedded-floor.child.ts (compiled) on a fresh data dir under `tmp`; resolves with what it printed. */
export const embeddedFloor = async (tmp: string, duplicates: number): Promise<EmbeddedFloor> => {
  const dataDir = await mkdtemp(join(tmp, "embedded-floor-"));
  try {
    const child = spawn(process.execPath, [compiledEntry("packages/http/bench/embedded-floor.child.ts"), join(dataDir, "db"), String(duplicates)], {
      cwd: ROOT,
      env: { PATH: process.env["PATH"] ?? "", NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err = (err + c).slice(-4000)));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", resolve);
    });
    const line = out.trim().split("\n").at(-1) ?? "";
    if (code !== 0 || !line.startsWith("{")) throw new Error(`the embedded floor exited with ${code}:\n${err}${out}`);
    return JSON.parse(line) as EmbeddedFloor;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
};
