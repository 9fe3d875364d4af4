import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Paths that may hold credentials if they ever reach a log line. Request lines are built field by
 * field (no headers, the path without its query string, which is where delivery signatures live),
 * so this is a second fence, not the first.
 */
const REDACT = [
  "authorization",
  "token",
  "secret",
  "*.authorization",
  "*.token",
  "*.secret",
  "*.headers.authorization",
  "*.headers.cookie",
  "config.jwtSecret",
  "config.urlSigningKeys",
  "config.storage.url",
];

export interface LoggerOptions {
  readonly level: string;
  /** Defaults to stdout: JSON lines, or pretty lines when stdout is a terminal. */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * pino's isoTime, made once per millisecond: every request writes a line, several in the same
 * millisecond under load, and each would format the date again.
 */
const isoTime = (() => {
  let ms = -1;
  let stamp = "";
  return (): string => {
    const now = Date.now();
    if (now !== ms) {
      ms = now;
      stamp = `,"time":"${new Date(now).toISOString()}"`;
    }
    return stamp;
  };
})();

export const createLogger = ({ level, destination }: LoggerOptions): Logger => {
  const options = { level, base: { service: "image-api" }, redact: { paths: REDACT, censor: "[redacted]" }, timestamp: isoTime };
  if (destination) return pino(options, destination);
  if (process.stdout.isTTY) return pino({ ...options, transport: { target: "pino-pretty", options: { translateTime: "SYS:HH:MM:ss.l" } } });
  return pino(options);
};

export const silentLogger = (): Logger => pino({ level: "silent" });
