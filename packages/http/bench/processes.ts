/**
 * Servers under test run in processes of their own, so the load generator never shares their event
 * loop: started with tsx as a loader (the server is then the child itself, whose pid is the one to
 * read the memory of), ready once `/readyz` answers 200.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { freeLoopbackPort } from "@image-api/testkit";

export const ROOT = new URL("../../../", import.meta.url).pathname;

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last lines the process wrote to stderr, for the error when it dies. */
  readonly stderr: () => string;
  readonly stop: () => Promise<void>;
}

export interface StartOptions {
  readonly name: string;
  /** A TypeScript entry point, relative to the repository root. */
  readonly entry: string;
  readonly env: Record<string, string>;
  readonly readyTimeoutMs?: number;
}

/** Starts `entry` on a free loopback port (PORT, HOST and IMAGE_API_PUBLIC_URL are set here) and waits until it is ready. */
export const startProcess = async ({ name, entry, env, readyTimeoutMs = 60_000 }: StartOptions): Promise<ServerProcess> => {
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["--conditions=@image-api/source", "--import", "tsx", join(ROOT, entry)], {
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
  for (;;) {
    if (exited !== undefined) throw new Error(`${name} exited with code ${exited} while starting:\n${tail}`);
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`${name} was not ready after ${readyTimeoutMs} ms:\n${tail}`);
    }
    const ready = await fetch(`${url}/readyz`).then(
      async (r) => {
        await r.arrayBuffer();
        return r.status === 200;
      },
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { name, url, pid: child.pid!, child, stderr: () => tail, stop };
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
