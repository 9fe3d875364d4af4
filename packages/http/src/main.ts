import * as E from "fp-ts/lib/Either.js";
import { loadConfig } from "./config.js";
import { claimsFor, DEMO_TOKEN_COMMAND, demoTokenRequest } from "./demo-token.js";
import { createLogger } from "./observability/logger.js";
import { startServer } from "./server.js";

const started = performance.now();
const config = loadConfig(process.env);
if (E.isLeft(config)) {
  console.error(`Invalid configuration:\n  ${config.left.join("\n  ")}`);
  process.exit(1);
}
const logger = createLogger({ level: config.right.logLevel });

// A request must never take the process down; log and keep serving.
process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));

const running = await startServer(config.right, logger).catch((e: unknown) => {
  logger.fatal({ err: e }, "could not start");
  console.error(`Could not start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
const { composition } = running;
const address = running.server.address();
logger.info(
  {
    host: config.right.host,
    port: typeof address === "object" && address ? address.port : config.right.port,
    public_url: config.right.publicUrl,
    database: config.right.databaseUrl ? "postgres" : "embedded",
    storage: config.right.storage.kind,
    startup_ms: Math.round(performance.now() - started),
  },
  "listening",
);

// The embedded defaults are for trying the service on one machine: print a token to try it with.
// With configured secrets nothing is printed that could sign or carry a request.
if (!config.right.jwtSecret) {
  const req = demoTokenRequest();
  const token = await composition.deps.tokens.issue(claimsFor(req, new Date()))();
  if (token._tag === "Right") {
    const base = config.right.publicUrl;
    console.log(`\nEmbedded defaults: data in ${config.right.dataDir}${composition.secretsCreated ? " (secrets generated)" : ""}.`);
    console.log(`Demo token (album "demo-album", every ability, 4 h):\n  ${token.right}\n`);
    console.log(`Try (photo.jpg: any picture; the README walks through the rest):\n  curl -s -H 'Authorization: Token token="${token.right}"' -F file=@photo.jpg ${base}/api/v1/albums/demo-album/images`);
    console.log(`More tokens:\n  TOKEN=$(${DEMO_TOKEN_COMMAND})\n`);
  }
}

const shutdown = (signal: string) => {
  logger.info({ signal, timeout_s: config.right.shutdownTimeoutSeconds }, "shutting down");
  const t0 = performance.now();
  running.stop().then(
    () => {
      logger.info({ drain_ms: Math.round(performance.now() - t0) }, "stopped");
      logger.flush();
      process.exit(0);
    },
    (err: unknown) => {
      logger.error({ err }, "unclean stop");
      logger.flush();
      process.exit(1);
    },
  );
};
process.once("SIGINT", () => shutdown("SIGINT"));
process.once("SIGTERM", () => shutdown("SIGTERM"));
