import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { TaskEither } from "fp-ts/lib/TaskEither.js";
import type { BlobStore } from "@image-api/core";

export interface PoolStats {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

export interface Metrics {
  readonly registry: Registry;
  readonly requestDuration: Histogram<"method" | "route" | "status">;
  readonly inFlight: Gauge;
  readonly blobOperations: Histogram<"operation" | "backend" | "outcome">;
  readonly sweepRuns: Counter<"outcome">;
  readonly blobsReleased: Counter;
  readonly renditions: Counter<"source">;
}

/** One registry per app (not prom-client's global one), so several apps in one process stay apart. */
export const createMetrics = (options: { readonly pool?: () => PoolStats | undefined; readonly processMetrics?: boolean } = {}): Metrics => {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const pool = options.pool;
  if (pool) {
    const gauge = (name: string, help: string, pick: (s: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          const s = pool();
          if (s) this.set(pick(s));
        },
      });
    gauge("image_api_db_pool_connections", "Connections the database pool holds", (s) => s.total);
    gauge("image_api_db_pool_idle", "Idle connections in the database pool", (s) => s.idle);
    gauge("image_api_db_pool_waiting", "Queries waiting for a pooled connection", (s) => s.waiting);
  }
  return {
    registry,
    requestDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration by method, route pattern and status",
      labelNames: ["method", "route", "status"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    inFlight: new Gauge({ name: "http_requests_in_flight", help: "Requests being served", registers: [registry] }),
    blobOperations: new Histogram({
      name: "image_api_blob_operation_duration_seconds",
      help: "Blob store operation duration by operation, backend and outcome",
      labelNames: ["operation", "backend", "outcome"] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    sweepRuns: new Counter({ name: "image_api_sweep_runs_total", help: "Orphaned-blob sweeps by outcome", labelNames: ["outcome"] as const, registers: [registry] }),
    blobsReleased: new Counter({ name: "image_api_sweep_blobs_released_total", help: "Blobs the sweep removed", registers: [registry] }),
    renditions: new Counter({
      name: "image_api_renditions_total",
      help: "Renditions delivered, by source: rendered now or served from the cache",
      labelNames: ["source"] as const,
      registers: [registry],
    }),
  };
};

type Op = keyof BlobStore;

/** Times every blob store call; a rendition read that hits counts as served from cache, a rendition write as rendered. */
export const instrumentBlobStore = (store: BlobStore, backend: string, metrics: Metrics): BlobStore => {
  const timed =
    <A extends unknown[], E extends { readonly _tag: string }, R>(operation: Op, f: (...args: A) => TaskEither<E, R>) =>
    (...args: A): TaskEither<E, R> =>
    async () => {
      const end = metrics.blobOperations.startTimer({ operation, backend });
      try {
        const result = await f(...args)();
        end({ outcome: result._tag === "Right" ? "ok" : result.left._tag });
        if (result._tag === "Right" && operation === "getRendition") metrics.renditions.inc({ source: "cache" });
        if (result._tag === "Right" && operation === "putRendition") metrics.renditions.inc({ source: "rendered" });
        return result;
      } catch (e) {
        end({ outcome: "exception" });
        throw e;
      }
    };
  return {
    put: timed("put", store.put),
    get: timed("get", store.get),
    exists: timed("exists", store.exists),
    delete: timed("delete", store.delete),
    getRendition: timed("getRendition", store.getRendition),
    putRendition: timed("putRendition", store.putRendition),
  };
};
