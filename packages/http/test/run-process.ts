import { spawn, type SpawnOptions } from "node:child_process";
import { join } from "node:path";

/** The repository root, where the workspace's scripts and binaries are. */
export const ROOT = new URL("../../../", import.meta.url).pathname;
export const TSX = join(ROOT, "node_modules/.bin/tsx");

export interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end and collects what it printed. */
export const runProcess = (command: string, args: readonly string[], options: SpawnOptions = {}): Promise<Exit> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
