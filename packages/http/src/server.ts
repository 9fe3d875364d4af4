import type { Server } from "node:http";
import { releaseOrphanedBlobs } from "@image-api/core";
import { createApp } from "./app.js";
import type { Config } from "./config.js";
import { compose, type Composition } from "./container.js";

export interface RunningServer {
  readonly server: Server;
  readonly composition: Composition;
  readonly url: string;
  readonly stop: () => Promise<void>;
}

/** Composes, sweeps blobs a crash may have left, and listens. Used by main and by tests. */
export const startServer = async (config: Config): Promise<RunningServer> => {
  const composition = await compose(config);
  await releaseOrphanedBlobs(composition.deps)();
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
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await composition.close();
    },
  };
};
