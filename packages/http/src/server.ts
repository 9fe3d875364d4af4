import { createServer, type RequestListener, type Server } from "node:http";
import { IDEMPOTENCY_TTL_MS, releaseOrphanedBlobs, RESERVATION_GRACE_MS } from "@image-api/core";
import { createApp } from "./app.js";
import type { Config } from "./config.js";
import { compose, type Composition } from "./container.js";
import { writeFamilyHead } from "./middleware/response-headers.js";
import { silentLogger, type Logger } from "./observability/logger.js";
import type { Lifecycle } from "./routes/health.routes.js";

const SWEEP_INTERVAL_MS = 15 * 60 * 1000;

export interface RunningServer {
  readonly server: Server;
  readonly composition: Composition;
  readonly url: string;
  readonly lifecycle: Lifecycle;
  /** Stops taking work, drains in-flight requests for at most the shutdown timeout, then closes everything. */
  readonly stop: () => Promise<void>;
}

const STARTING_MESSAGE = "the service is starting";

/** What answers while the database is being opened and migrated: alive, not ready, with the family's headers as ever. */
export const starting: RequestListener = (req, res) => {
  const startedAt = performance.now();
  const alive = req.url === "/livez";
  const body = JSON.stringify(alive ? { status: "ok" } : { status: "starting", error: { code: "service_unavailable", message: STARTING_MESSAGE } });
  const headers: Record<string, string> = { "Content-Type": "application/json; charset=utf-8", Vary: "Accept-Encoding", "Content-Length": String(Buffer.byteLength(body)) };
  if (!alive) Object.assign(headers, { "X-message": STARTING_MESSAGE, "Retry-After": "1" });
  writeFamilyHead(req, res, alive ? 200 : 503, headers, startedAt);
  res.end(body);
};

const listen = (server: Server, port: number, host: string): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });

/**
 * Listens first (so probes see `starting`), then composes, sweeps blobs a crash may have left,
 * and hands the socket to the app. Used by main and by tests.
 */
export const startServer = async (config: Config, logger: Logger = silentLogger()): Promise<RunningServer> => {
  const lifecycle: Lifecycle = { state: "starting" };
  let handler: RequestListener = starting;
  const server = createServer((req, res) => handler(req, res));
  server.headersTimeout = 30_000;
  server.requestTimeout = 300_000;
  await listen(server, config.port, config.host);

  let composition: Composition;
  try {
    composition = await compose(config);
  } catch (e) {
    await new Promise((resolve) => server.close(resolve));
    throw e;
  }
  const { metrics } = composition;
  const sweep = async () => {
    const released = await releaseOrphanedBlobs(composition.deps)();
    metrics.sweepRuns.inc({ outcome: released._tag === "Right" ? "ok" : "unavailable" });
    if (released._tag === "Right") {
      metrics.blobsReleased.inc(released.right);
      if (released.right > 0) logger.info({ released: released.right }, "sweep released orphaned blobs");
    } else logger.warn({ reason: released.left.message }, "sweep could not reach the database");
    // Writes in flight are younger than an upload's grace period, so only a crash's leftovers are this old.
    const stale = new Date(composition.deps.clock.now().getTime() - RESERVATION_GRACE_MS);
    const removed = await composition.removeStaleTemporaryFiles(stale).catch((e: unknown) => {
      logger.warn({ err: e }, "sweep could not remove stale temporary files");
      return 0;
    });
    if (removed > 0) logger.info({ removed }, "sweep removed temporary files of interrupted writes");
    const expired = await composition.deps.idempotency.sweep(new Date(composition.deps.clock.now().getTime() - IDEMPOTENCY_TTL_MS))();
    if (expired._tag === "Right" && expired.right > 0) logger.info({ expired: expired.right }, "sweep forgot expired idempotency keys");
  };
  await sweep();
  // Instances run for weeks; stale reservations and failed deletions are retried while they do.
  const sweeper = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
  sweeper.unref();

  handler = createApp(composition.deps, {
    logger,
    metrics,
    lifecycle,
    probes: composition.probes,
    ...(config.corsOrigins ? { corsOrigins: config.corsOrigins } : {}),
    publicUrl: config.publicUrl,
    ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
  }) as unknown as RequestListener;
  lifecycle.state = "ready";

  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  let stopping: Promise<void> | undefined;
  const stop = async () => {
    lifecycle.state = "stopping";
    clearInterval(sweeper);
    const drained = new Promise<boolean>((resolve) => server.close(() => resolve(true)));
    // Keep-alive connections with nothing in flight would hold close() open forever.
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), config.shutdownTimeoutSeconds * 1000)));
    const clean = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (!clean) logger.warn({ timeout_s: config.shutdownTimeoutSeconds }, "shutdown timeout: closing connections with requests still in flight");
    server.closeAllConnections();
    await composition.close();
  };
  return {
    server,
    composition,
    url: `http://127.0.0.1:${port}`,
    lifecycle,
    stop: () => (stopping ??= stop()),
  };
};
