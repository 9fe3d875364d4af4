import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findSecrets, LOG_DIR_ENV, secretPatterns } from "./log-scan.js";
import { SECRET, URL_KEY } from "./harness.constants.js";

/**
 * Collects what every test app logs during the run and fails the run when a credential appears in it.
 * The suite exercises every route, backend and error path, so its log is the widest sample we have.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), "image-api-test-logs-"));
  // Set before the workers start, so they inherit it.
  process.env[LOG_DIR_ENV] = dir;
  return async () => {
    const files = await readdir(dir);
    const log = (await Promise.all(files.map((f) => readFile(join(dir, f), "utf8")))).join("");
    await rm(dir, { recursive: true, force: true });
    const requests = log.split("\n").filter((l) => l.includes('"msg":"request"')).length;
    // A filtered run may log little; only a run that logged requests has anything to prove.
    if (requests === 0) return;
    const found = findSecrets(log, secretPatterns([SECRET, URL_KEY]));
    if (found.length > 0) {
      // vitest reports an error thrown here but still exits 0, so the exit code is set as well.
      process.exitCode = 1;
      throw new Error(`credentials in the test run's log (${found.length} lines):\n${found.slice(0, 20).join("\n")}`);
    }
    console.info(`[log-scan] ${requests} request lines, ${log.split("\n").length} lines in all: no credentials`);
  };
}
