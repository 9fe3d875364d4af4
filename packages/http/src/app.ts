import { timingSafeEqual } from "node:crypto";
import cors from "cors";
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from "express";
import type { AppDeps } from "./deps.js";
import { httpError } from "./errors/error.mapper.js";
import { authenticate } from "./middleware/authenticate.js";
import { orderResponseHeaders, responseHeaders } from "./middleware/response-headers.js";
import { albumsRouter } from "./routes/albums.routes.js";
import { defaultProbes, healthRouters, type Lifecycle, type Probes } from "./routes/health.routes.js";
import { imagesRouter } from "./routes/images.routes.js";
import { mediaRouter } from "./routes/media.routes.js";
import { searchRouter } from "./routes/search.routes.js";
import { docsRouter } from "./openapi/docs.routes.js";
import { openApiDocument } from "./openapi/document.js";
import { silentLogger, type Logger } from "./observability/logger.js";
import { createMetrics, type Metrics } from "./observability/metrics.js";
import { requestLog } from "./observability/request-log.js";
import { sendError } from "./send.js";

const BODY_LIMIT = "1mb";

/**
 * The form and JSON parsers as one layer. A request without a Content-Type is one neither parser
 * would read (the duplicate's usual case): it goes on at once, without entering either.
 */
const parseBody =
  (form: RequestHandler, json: RequestHandler): RequestHandler =>
  (req, res, next) => {
    if (req.headers["content-type"] === undefined) return next();
    form(req, res, (err?: unknown) => (err === undefined ? json(req, res, next) : next(err)));
  };

/** Body-parser and other framework errors carry a status; anything else is our fault. */
const errorHandler =
  (log: (e: unknown) => void): ErrorRequestHandler =>
  (err: unknown, _req, res, _next) => {
    const status = typeof err === "object" && err !== null && "status" in err ? Number((err as { status: unknown }).status) : 500;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (status === 413) sendError(res, httpError(413, "payload_too_large", "request body too large"));
    else if (status === 415) sendError(res, httpError(415, "unsupported_media_type", "unsupported request body encoding"));
    else if (status >= 400 && status < 500) sendError(res, httpError(400, "bad_request", "malformed request body"));
    else {
      log(err);
      sendError(res, httpError(500, "internal_error", "internal error"));
    }
  };

export interface AppOptions {
  /** Silent unless given. */
  readonly logger?: Logger;
  /** Called with every unexpected error; defaults to an error line with its stack. */
  readonly onError?: (e: unknown) => void;
  readonly metrics?: Metrics;
  /** Required as a Bearer token on `/metrics` when set. */
  readonly metricsToken?: string;
  readonly lifecycle?: Lifecycle;
  readonly probes?: Probes;
  /** Origins allowed to call the API from a browser: `*` or a list; absent, no CORS header is ever sent. */
  readonly corsOrigins?: "*" | readonly string[];
  /** IMAGE_API_PUBLIC_URL, the OpenAPI document's server; without it the document names its own origin (`/`). */
  readonly publicUrl?: string;
}

/** The headers a browser client needs to read: the refreshed token, paging, the error message, request ids. */
const EXPOSED = ["X-token", "X-Total-Count", "Link", "X-message", "X-Request-Id", "X-Runtime", "X-access-crop", "X-access-rotate", "X-access-duplicate", "Idempotent-Replayed"];

/** CORS headers only for requests that come from a browser (they carry Origin), so other answers keep the family's exact headers. */
const corsFor = (origins: "*" | readonly string[]): RequestHandler => {
  const handler = cors({
    origin: origins === "*" ? "*" : [...origins],
    methods: ["GET", "HEAD", "POST", "PUT", "DELETE"],
    allowedHeaders: ["Authorization", "Content-Type", "X-Request-Id", "Idempotency-Key"],
    exposedHeaders: EXPOSED,
    maxAge: 600,
  });
  return (req, res, next) => (req.headers.origin === undefined ? next() : handler(req, res, next));
};

const sameSecret = (given: string, expected: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

const metricsRoute =
  (metrics: Metrics, token: string | undefined): RequestHandler =>
  async (req, res) => {
    const given = /^Bearer\s+(\S+)$/i.exec(req.get("Authorization") ?? "")?.[1];
    if (token !== undefined && (given === undefined || !sameSecret(given, token))) {
      sendError(res, httpError(401, "unauthenticated", "metrics need the metrics token"));
      return;
    }
    const body = await metrics.registry.metrics();
    res.status(200).setHeader("Content-Type", metrics.registry.contentType);
    res.send(body);
  };

export const createApp = (deps: AppDeps, options: AppOptions = {}): Express => {
  const logger = options.logger ?? silentLogger();
  const log = options.onError ?? ((err: unknown) => logger.error({ err }, "unexpected error"));
  const metrics = options.metrics ?? createMetrics({ processMetrics: false });
  const health = healthRouters(options.probes ?? defaultProbes(deps), options.lifecycle ?? { state: "ready" });
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "simple");
  app.use(requestLog(logger, metrics));
  orderResponseHeaders(app);
  app.use(responseHeaders);
  if (options.corsOrigins) app.use(corsFor(options.corsOrigins));
  // The API first: no other mount shares its prefix, and Express tries every layer in turn.
  const api = express.Router();
  api.use(parseBody(express.urlencoded({ extended: true, limit: BODY_LIMIT, parameterLimit: 1_100 }), express.json({ limit: BODY_LIMIT })));
  api.use(authenticate(deps.tokens, deps.clock));
  imagesRouter(deps, api, "/images");
  albumsRouter(deps, api, "/albums");
  searchRouter(deps, api, "/search");
  app.use("/api/v1", api);
  app.use("/livez", health.livez);
  app.use("/readyz", health.readyz);
  app.use("/healthz", health.healthz);
  app.get("/metrics", metricsRoute(metrics, options.metricsToken));
  // Built once per app; /openapi.json and /docs need no token.
  app.use(docsRouter(openApiDocument({ publicUrl: options.publicUrl ?? "/" }), options.publicUrl));
  app.use("/media", mediaRouter(deps));
  app.use((_req, res) => sendError(res, httpError(404, "not_found", "no such route")));
  app.use(errorHandler(log));
  return app;
};
