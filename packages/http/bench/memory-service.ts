/**
 * The service on the in-memory repository and blob store: the HTTP host, the composition and the
 * domain exactly as `main.ts` runs them, only the storage is a Map. What it costs is the
 * application's own share of a request. Configured from the environment like `main.ts`.
 *
 * With the repository and the idempotency store both in memory, the composition opens no database.
 */
import { createServer, type RequestListener } from "node:http";
import * as E from "fp-ts/lib/Either.js";
import { memoryBlobStore, memoryIdempotencyStore, memoryImageRepository, type MemoryIdempotencyRecords } from "@image-api/adapters/memory";
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
// The repository completes the keys its store claims, so the two share their records.
const records: MemoryIdempotencyRecords = new Map();
const composition = await compose(config.right, { images: memoryImageRepository(records), idempotency: memoryIdempotencyStore(records), blobs: memoryBlobStore() });
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
