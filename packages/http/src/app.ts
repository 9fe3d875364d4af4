import express, { type ErrorRequestHandler, type Express } from "express";
import type { AppDeps } from "./deps.js";
import { httpError } from "./errors/error.mapper.js";
import { authenticate } from "./middleware/authenticate.js";
import { responseHeaders } from "./middleware/response-headers.js";
import { albumsRouter } from "./routes/albums.routes.js";
import { healthRouter } from "./routes/health.routes.js";
import { imagesRouter } from "./routes/images.routes.js";
import { mediaRouter } from "./routes/media.routes.js";
import { sendError } from "./send.js";

const BODY_LIMIT = "1mb";

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

export const createApp = (deps: AppDeps, log: (e: unknown) => void = (e) => console.error(e)): Express => {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "simple");
  app.use(responseHeaders);
  app.use("/healthz", healthRouter(deps));
  app.use("/media", mediaRouter(deps));
  const api = express.Router();
  api.use(express.urlencoded({ extended: true, limit: BODY_LIMIT, parameterLimit: 200 }));
  api.use(express.json({ limit: BODY_LIMIT }));
  api.use(authenticate(deps.tokens, deps.clock));
  api.use("/images", imagesRouter(deps));
  api.use("/albums", albumsRouter(deps));
  app.use("/api/v1", api);
  app.use((_req, res) => sendError(res, httpError(404, "not_found", "no such route")));
  app.use(errorHandler(log));
  return app;
};
