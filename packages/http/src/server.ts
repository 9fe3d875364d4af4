import type { Server } from "node:http";
import { releaseOrphanedBlobs } from "@image-api/core";
import { createApp } from "./app.js";
import type { Config } from "./config.js";
import { compose, type Composition } from "./container.js";

const SWEEP_INTERVAL_MS = 15 * 60 * 1000;

export interface RunningServer {
  readonly server: Server;
  readonly composition: Composition;
  readonly url: string;
  readonly stop: () => Promise<void>;
}

/** Composes, sweeps blobs a crash may have left, and listens. Used by main and by tests. */
export const startServer = async (config: Config): Promise<RunningServer> => {
  const composition = await compose(config);
  const sweep = () => releaseOrphanedBlobs(composition.deps)();
  await sweep();
  // Instances run for weeks; stale reservations and failed deletions are retried while they do.
  const sweeper = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
  sweeper.unref();
  const app = createApp(composition.deps);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once("error", reject);
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 300_000;
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  return {
    server,
    composition,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      clearInterval(sweeper);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await composition.close();
    },
  };
};
