import type { NextFunction, Request, Response } from "express";
import type { Claims } from "@image-api/core";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";

/** The matched route pattern, recorded when the response starts (Express forgets it after the router returns). */
export const routePattern = (req: Request): string | undefined => (req.route ? `${req.baseUrl}${String(req.route.path)}` : undefined);

/**
 * One log line and one histogram sample per request. Written by hand rather than with pino-http:
 * the line is built field by field so that no header (tokens) and no query string (delivery URL
 * signatures) can reach it, and it needs the route pattern and caller, which only the app knows.
 */
export const requestLog = (logger: Logger, metrics: Metrics) => {
  // The logger's redaction is skipped here: it matches keys, and none of this line's fixed keys is
  // one it censors, so walking every line for them (a few µs a request) could never change one.
  const lines = logger.child({}, { redact: [] });
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    metrics.inFlight.inc();
    res.once("close", () => {
      metrics.inFlight.dec();
      const ms = performance.now() - started;
      const route = (res.locals["route"] as string | undefined) ?? "unmatched";
      const status = res.headersSent ? res.statusCode : 499;
      metrics.requestDuration.observe({ method: req.method, route, status: String(status) }, ms / 1000);
      const level = status >= 500 ? "error" : "info";
      // The line is only built when it will be written: this runs on every request, the duplicate included.
      if (!lines.isLevelEnabled(level)) return;
      const caller = res.locals["caller"] as Claims | undefined;
      const line = {
        req_id: res.getHeader("X-Request-Id"),
        method: req.method,
        route,
        path: req.path,
        status,
        duration_ms: Math.round(ms * 1000) / 1000,
        bytes_in: Number(req.headers["content-length"] ?? 0),
        bytes_out: Number(res.getHeader("Content-Length") ?? 0),
        ...(caller?.user_id ? { user_id: caller.user_id } : {}),
        ...(caller?.iss ? { tenant: caller.iss } : {}),
      };
      lines[level](line, "request");
    });
    next();
  };
};
