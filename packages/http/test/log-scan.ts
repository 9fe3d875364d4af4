import { appendFileSync } from "node:fs";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { createLogger, type Logger } from "../src/observability/logger.js";

/** Set by the global setup: every test app logs there, and the whole run's log is scanned at the end. */
export const LOG_DIR_ENV = "IMAGE_API_TEST_LOG_DIR";

/**
 * Credentials the service must never write to a log: bearer tokens (any JWT), delivery URL
 * signatures (ours, S3's presigned ones, Cloudinary's `s--…--`), Cloudinary credentials, and the
 * fixed secrets the test apps are configured with.
 */
export const secretPatterns = (literals: readonly string[]): readonly RegExp[] => [
  /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{16,}/,
  /[?&]sig=[\w-]{16,}/,
  /X-Amz-Signature=/i,
  /\/s--[\w-]{8}--\//,
  /cloudinary:\/\/[^\s"]+/,
  ...literals.map((s) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))),
];

/** Lines of `log` matching any pattern, each with the pattern that matched. */
export const findSecrets = (log: string, patterns: readonly RegExp[]): string[] =>
  log
    .split("\n")
    .flatMap((line) => patterns.filter((p) => p.test(line)).map((p) => `${p.source}: ${line.slice(0, 300)}`));

/**
 * A logger for a test app: debug level into this worker's file under the run's log dir, or silent
 * when the suite runs without the global setup. Synchronous appends keep lines whole when a test ends abruptly.
 */
export const testLogger = (): Logger | undefined => {
  const dir = process.env[LOG_DIR_ENV];
  if (!dir) return undefined;
  const file = join(dir, `worker-${process.pid}.log`);
  const destination = { write: (chunk: string) => (appendFileSync(file, chunk), true) } as unknown as Writable;
  return createLogger({ level: "debug", destination });
};
