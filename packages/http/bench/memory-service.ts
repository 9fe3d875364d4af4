/**
 * The service on the in-memory repository and blob store: the HTTP host, the composition and the
 * domain exactly as `main.ts` runs them, only the storage is a Map. What it costs is the
 * application's own share of a request. Configured from the environment like `main.ts`.
 *
 * The composition still opens the configured database and migrates it; no request reaches it.
 */
import { createServer, type RequestListener } from "node:http";
import * as E from "fp-ts/lib/Either.js";
import { memoryBlobStore, memoryImageRepository } from "@image-api/adapters/memory";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { compose } from "../src/container.js";
import { createLogger } from "../src/observability/logger.js";

const config = loadConfig(process.env);
if (E.isLeft(config)) {
  console.error(`Invalid configuration:\n  ${config.left.join("\n  ")}`);
  process.exit(1);
}
const logger = createLogger({ level: config.right.logLevel });
const composition = await compose(config.right, { images: memoryImageRepository(), blobs: memoryBlobStore() });
const app = createApp(composition.deps, {
  logger,
  metrics: composition.metrics,
  probes: composition.probes,
  lifecycle: { state: "ready" },
  publicUrl: config.right.publicUrl,
});
const server = createServer(app as unknown as RequestListener);
server.listen(config.right.port, config.right.host);

const stop = () => {
  server.close();
  server.closeAllConnections();
  void composition.close().finally(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
