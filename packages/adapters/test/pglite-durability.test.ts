import { execFile, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgliteClient } from "../src/postgres/pglite.sql-client.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const CHILD = new URL("./pglite-durability.child.ts", import.meta.url).pathname;
const INSERTS = 5;

const hasStrace = ((): boolean => {
  try {
    execFileSync("strace", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

interface Sync {
  /** syncfs: a whole file system's, named by the file it was asked through. */
  readonly call: "fsync" | "fdatasync" | "syncfs";
  readonly path: string;
}

/** Each fsync/fdatasync/syncfs of the run (child processes included), in the order they started, with the path of the file synced. */
const traced = async (dataDir: string, mode: "durable" | "relaxed" | "reopen"): Promise<Sync[]> => {
  const markers = await mkdtemp(join(tmpdir(), "image-api-markers-"));
  const log = join(markers, "strace.log");
  try {
    // -y names each descriptor's file; --seccomp-bpf stops the process only on the traced calls.
    await promisify(execFile)(
      "strace",
      ["-f", "-qq", "-y", "--seccomp-bpf", "-e", "trace=fsync,fdatasync,syncfs", "-o", log, process.execPath, "--import", "tsx", CHILD, dataDir, markers, mode, String(INSERTS)],
      { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: "" } },
    );
    const text = await readFile(log, "utf8");
    // A call another thread interrupted is split into "<unfinished ...>" and "<... resumed>": the first half names it.
    return [...text.matchAll(/\b(fsync|fdatasync|syncfs)\(\d+<([^>]*)>/g)].map((m) => ({
      call: m[1] as Sync["call"],
      path: m[2]!.replace(`${markers}/`, "marker:"),
    }));
  } finally {
    await rm(markers, { recursive: true, force: true });
  }
};

/**
 * Runs the child in crash mode, untraced: it checkpoints a new table, commits INSERTS rows into it and
 * says so, and is killed with SIGKILL right then. Answers the table's file, relative to the data dir.
 */
const killedAfterCommits = async (dataDir: string): Promise<string> => {
  const unused = await mkdtemp(join(tmpdir(), "image-api-markers-"));
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, dataDir, unused, "crash", String(INSERTS)], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: "" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    let out = "";
    const said = new Promise<{ relation: string; committed: number }>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8");
        if (out.includes("\n")) resolve(JSON.parse(out.slice(0, out.indexOf("\n"))) as { relation: string; committed: number });
      });
      child.once("exit", (code, signal) => reject(new Error(`the crash child exited early (${code ?? signal})`)));
    });
    const { relation, committed } = await said;
    expect(committed).toBe(INSERTS);
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
    expect(child.signalCode).toBe("SIGKILL");
    return relation;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await rm(unused, { recursive: true, force: true });
  }
};

/** The syncs after marker `from` and before marker `to`. */
const between = (syncs: readonly Sync[], from: string, to: string): Sync[] => {
  const start = syncs.findIndex((s) => s.path === `marker:${from}`);
  const end = syncs.findIndex((s) => s.path === `marker:${to}`);
  expect(start, `marker ${from}`).toBeGreaterThanOrEqual(0);
  expect(end, `marker ${to}`).toBeGreaterThan(start);
  return syncs.slice(start + 1, end);
};

/** Whether `sync -f` (coreutils' syncfs(2)) works here: without it a reopen after a kill falls back to syncing file by file. */
const hasSyncFs = ((): boolean => {
  try {
    execFileSync("sync", ["-f", tmpdir()], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const traceTitle = `PGlite on disk, traced with strace${hasStrace ? "" : " (skipped: strace is not installed)"}`;
describe.skipIf(!hasStrace)(traceTitle, () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "image-api-pglite-durable-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("durable: every commit syncs the WAL before it resolves, a checkpoint syncs data files and pg_control, a new database is synced whole", { timeout: 180_000 }, async () => {
    const db = join(dataDir, "durable");
    const syncs = await traced(db, "durable");
    const under = (dir: string) => (s: Sync) => s.path.startsWith(`${db}/${dir}`);

    const opening = between(syncs, "open-begin", "opened").map((s) => s.path);
    expect(opening).toEqual(expect.arrayContaining([db, `${db}/PG_VERSION`, `${db}/global/pg_control`]));
    // Nothing to recover in a new database: no file system is synced whole.
    expect(syncs.filter((s) => s.call === "syncfs")).toEqual([]);

    let previous = "created";
    for (let i = 0; i < INSERTS; i++) {
      const commit = between(syncs, previous, `committed-${i}`);
      expect(commit.filter(under("pg_wal/")), `WAL synced before insert ${i} resolved`).not.toEqual([]);
      previous = `committed-${i}`;
    }

    const relation = syncs.find((s) => s.path.startsWith("marker:relation="))!.path.slice("marker:relation=".length).replaceAll("~", "/");
    expect(relation).toMatch(/^base\/\d+\/\d+$/);
    const checkpoint = between(syncs, "checkpoint-begin", "checkpointed").map((s) => s.path);
    expect(checkpoint, "the table's file synced by CHECKPOINT").toContain(`${db}/${relation}`);
    expect(checkpoint, "pg_control synced by CHECKPOINT").toContain(`${db}/global/pg_control`);
  });

  it.skipIf(!hasSyncFs)(
    "durable, after a kill -9: the reopen syncs the file system once, then only what its recovery writes; the commits are all there",
    { timeout: 180_000 },
    async () => {
      const db = join(dataDir, "killed");
      const relation = await killedAfterCommits(db);
      expect(relation).toMatch(/^base\/\d+\/\d+$/);
      const entries = (await readdir(db, { recursive: true })).length + 1;

      const syncs = await traced(db, "reopen");
      expect(syncs.filter((s) => s.path === `marker:rows=${INSERTS}`), "every row committed before the kill").toHaveLength(1);
      const opening = between(syncs, "open-begin", "opened");
      // The one sync of the whole file system, before Postgres starts.
      expect(opening.filter((s) => s.call === "syncfs").map((s) => s.path)).toEqual([db]);
      const perFile = opening.filter((s) => s.call !== "syncfs").map((s) => s.path);
      expect(perFile.every((path) => path.startsWith(db))).toBe(true);
      // Postgres's start after a crash opens and syncs every file and directory of the data dir: nearly all of those are left out.
      expect(perFile.length, `syncs during the reopen, against ${entries} files and directories`).toBeLessThan(entries / 10);
      // Not written since the file system's sync, so left out.
      expect(perFile).not.toContain(`${db}/PG_VERSION`);
      expect(perFile).not.toContain(`${db}/postgresql.conf`);
      // Written by the recovery, so synced: the page the inserts are replayed into and the end-of-recovery
      // checkpoint's WAL record and pg_control. Skipping every sync during the open would leave these out.
      expect(perFile, "the table's file, written by the replay").toContain(`${db}/${relation}`);
      expect(perFile, "pg_control, written by the end-of-recovery checkpoint").toContain(`${db}/global/pg_control`);
      expect(perFile.some((path) => path.startsWith(`${db}/pg_wal/`)), "the WAL, written by the end-of-recovery checkpoint").toBe(true);

      // That reopen stopped cleanly: the next one has nothing to recover, and syncs no file system whole.
      const again = await traced(db, "reopen");
      expect(again.filter((s) => s.path === `marker:rows=${INSERTS}`)).toHaveLength(1);
      expect(again.filter((s) => s.call === "syncfs")).toEqual([]);
    },
  );

  it("relaxed (durable: false): nothing in the data dir is ever synced", { timeout: 180_000 }, async () => {
    const db = join(dataDir, "relaxed");
    const syncs = await traced(db, "relaxed");
    // The run did happen: its markers are all there.
    expect(syncs.filter((s) => s.path.startsWith("marker:")).length).toBe(INSERTS + 7);
    expect(syncs.filter((s) => s.path.startsWith(db))).toEqual([]);
  });
});

describe("PGlite durability settings", () => {
  it("a data dir runs Postgres with fsync on by default, off when durable is false", { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "image-api-pglite-settings-"));
    const settings = async (durable?: boolean) => {
      const client = await createPgliteClient({ dataDir, ...(durable === undefined ? {} : { durable }) });
      try {
        const { rows } = await client.query<{ name: string; setting: string }>(
          "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'wal_sync_method', 'synchronous_commit', 'full_page_writes') ORDER BY name",
        );
        return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
      } finally {
        await client.close();
      }
    };
    try {
      expect(await settings()).toEqual({ fsync: "on", full_page_writes: "on", synchronous_commit: "on", wal_sync_method: "fdatasync" });
      expect((await settings(false))["fsync"]).toBe("off");
      // The same data dir opens durably again after a relaxed run.
      expect((await settings(true))["fsync"]).toBe("on");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
