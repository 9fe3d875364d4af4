/**
 * Servers under test run in processes of their own, so the load generator never shares their event
 * loop: compiled JavaScript under plain `node`, as the service is deployed (the server is then the
 * child itself, whose pid is the one to read the memory of), ready once `/readyz` answers 200.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, readlink, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { freeLoopbackPort } from "@image-api/testkit";

export const ROOT = new URL("../../../", import.meta.url).pathname;

/** The root `build` script's projects, then the bench's own server entries (./tsconfig.servers.json). */
const PROJECTS = ["packages/http/tsconfig.build.json", "packages/testkit/tsconfig.build.json", "packages/http/bench/tsconfig.servers.json"];
/**
 * Where the bench's entries are emitted. They import the service as `../src/…`, so `src` there is a
 * link to the service's own build, `packages/http/dist`: one compiled copy of the service.
 */
const BENCH_OUT = "packages/http/dist-bench";

const build = async (): Promise<void> => {
  const tsc = createRequire(join(ROOT, "package.json")).resolve("typescript/bin/tsc");
  try {
    await promisify(execFile)(process.execPath, [tsc, "-b", ...PROJECTS], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const { stdout = "", stderr = "" } = e as { stdout?: string; stderr?: string };
    throw new Error(`the build failed (tsc -b ${PROJECTS.join(" ")}):\n${`${stdout}${stderr}`.trim() || String(e)}`);
  }
  const link = join(ROOT, BENCH_OUT, "src");
  await symlink("../dist", link, "dir").catch(async (e: unknown) => {
    if ((e as { code?: unknown }).code !== "EEXIST" || (await readlink(link).catch(() => null)) !== "../dist") throw e;
  });
};

let built: Promise<void> | undefined;
/** Compiles the workspace and the bench's entries, once per run; fails with the compiler's output. */
export const buildServers = (): Promise<void> => (built ??= build());

/** The compiled file of a TypeScript entry point: a package's `src/…` is in its `dist/`, the bench's in BENCH_OUT. */
export const compiledEntry = (entry: string): string => {
  const js = entry.replace(/\.ts$/, ".js");
  const file = js.startsWith("packages/http/bench/")
    ? join(ROOT, BENCH_OUT, "bench", js.slice("packages/http/bench/".length))
    : join(ROOT, js.replace(/^(packages\/[^/]+)\/src\//, "$1/dist/"));
  if (!existsSync(file)) throw new Error(`${entry} has no compiled ${file}: the bench's own entries are listed in packages/http/bench/tsconfig.servers.json`);
  return file;
};

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** From the spawn to the first HTTP answer of any status (the server listens before it opens the database). */
  readonly listeningMs: number;
  /** From the spawn to the first `/readyz` 200, within one poll interval. */
  readonly readyMs: number;
  /** CPU time (user + system, every thread) the process had used when it was seen ready; `null` off Linux. */
  readonly readyCpuMs: number | null;
  /** The last lines the process wrote to stderr, for the error when it dies. */
  readonly stderr: () => string;
  readonly stop: () => Promise<void>;
}

export interface StartOptions {
  readonly name: string;
  /** A TypeScript entry point, relative to the repository root; its compiled JavaScript is what runs. */
  readonly entry: string;
  readonly env: Record<string, string>;
  readonly readyTimeoutMs?: number;
  /** How often `/readyz` is asked while the process starts (default 100 ms). */
  readonly pollMs?: number;
}

/** Starts `entry` on a free loopback port (PORT, HOST and IMAGE_API_PUBLIC_URL are set here) and waits until it is ready. */
export const startProcess = async ({ name, entry, env, readyTimeoutMs = 60_000, pollMs = 100 }: StartOptions): Promise<ServerProcess> => {
  await buildServers();
  const file = compiledEntry(entry);
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [file], {
    cwd: ROOT,
    env: { PATH: process.env["PATH"] ?? "", NODE_ENV: "production", ...env, PORT: String(port), HOST: "127.0.0.1", IMAGE_API_PUBLIC_URL: url },
    // Request log lines go to stdout, which is discarded: writing them stays part of the service's cost.
    stdio: ["ignore", "ignore", "pipe"],
  });
  let tail = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (tail = (tail + chunk).slice(-4000)));
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", (code) => {
      exited = code;
      resolve();
    }),
  );
  const stop = async () => {
    if (exited !== undefined) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exit;
    clearTimeout(killer);
  };
  const deadline = performance.now() + readyTimeoutMs;
  let listeningMs: number | undefined;
  let readyMs: number;
  for (;;) {
    if (exited !== undefined) throw new Error(`${name} exited with code ${exited} while starting:\n${tail}`);
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`${name} was not ready after ${readyTimeoutMs} ms:\n${tail}`);
    }
    const ready = await fetch(`${url}/readyz`).then(
      async (r) => {
        await r.arrayBuffer();
        listeningMs ??= performance.now() - spawnedAt;
        return r.status === 200;
      },
      () => false,
    );
    if (ready) {
      readyMs = performance.now() - spawnedAt;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  const readyCpuMs = await cpuMs(child.pid!);
  return { name, url, pid: child.pid!, child, listeningMs: listeningMs ?? readyMs, readyMs, readyCpuMs, stderr: () => tail, stop };
};

/** CPU time a process has used (user + system, all its threads) in milliseconds, from /proc (Linux), or `null`. */
export const cpuMs = async (pid: number): Promise<number | null> => {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  // The command name, in parentheses, may hold spaces: fields are counted after its closing one.
  const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (!fields || fields.length < 13) return null;
  // utime and stime, fields 14 and 15 of the line, in clock ticks (USER_HZ, 100 on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
};

/** Resident set size of a process in bytes, from /proc (Linux), or `null` where it cannot be read. */
export const residentBytes = async (pid: number): Promise<number | null> => {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => null);
  const kb = status ? /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] : undefined;
  return kb ? Number(kb) * 1024 : null;
};

/** Samples a process's RSS every `everyMs` until stopped; returns the largest and the last sample. */
export const sampleResident = (pid: number, everyMs = 250): (() => Promise<{ max: number | null; last: number | null }>) => {
  let max: number | null = null;
  let last: number | null = null;
  const take = async () => {
    const rss = await residentBytes(pid);
    if (rss === null) return;
    last = rss;
    max = Math.max(max ?? 0, rss);
  };
  void take();
  const timer = setInterval(() => void take(), everyMs);
  return async () => {
    clearInterval(timer);
    await take();
    return { max, last };
  };
};
