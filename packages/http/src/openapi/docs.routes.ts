import { createRequire } from "node:module";
import express, { Router, type Response } from "express";
import { DOCS_ASSETS } from "./document.js";
import type { OpenApiDocument } from "./spec-types.js";

// swagger-ui-dist's main module loads its whole 1.5 MB browser bundle into Node; only the directory is needed.
const getAbsoluteFSPath = createRequire(import.meta.url)("swagger-ui-dist/absolute-path.js") as () => string;

/** Links are relative, so the page also works behind a proxy that serves the API under a path prefix. */
const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Image API</title>
    <link rel="stylesheet" href="docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="docs/favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="docs/swagger-ui-bundle.js"></script>
    <script src="docs/init.js"></script>
  </body>
</html>
`;

/** A file of its own rather than an inline script, so the page's CSP can forbid inline scripts. */
const INIT = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: new URL("openapi.json", document.baseURI).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // No badge fetched from the online validator: the page talks to this service only.
    validatorUrl: null,
  });
});
`;

/**
 * Only this service's origins: the page's own, and the public URL's (the document's server, where
 * "Try it out" sends requests). Swagger UI sets styles through the DOM, which `style-src 'self'` allows;
 * its icons are data: URLs.
 */
const contentSecurityPolicy = (publicUrl: string | undefined): string => {
  let api = "";
  try {
    if (publicUrl) api = ` ${new URL(publicUrl).origin}`;
  } catch {
    // A relative public URL is the page's own origin.
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${api}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
};

/** The assets change only with the installed package; the API's no-store default is for API answers. */
const cacheable = (res: Response): void => {
  res.setHeader("Cache-Control", "public, max-age=3600");
  res.removeHeader("Pragma");
  res.removeHeader("Expires");
};

const ALLOWED: ReadonlySet<string> = new Set(DOCS_ASSETS);

/**
 * `GET /openapi.json` (serialised once, here) and the Swagger UI page at `GET /docs`, both without a
 * token. Only the listed swagger-ui-dist files are served: its own index.html would load the petstore.
 */
export const docsRouter = (document: OpenApiDocument, publicUrl?: string): Router => {
  const spec = JSON.stringify(document);
  const csp = contentSecurityPolicy(publicUrl);
  const files = express.static(getAbsoluteFSPath(), { index: false, redirect: false, fallthrough: true, setHeaders: cacheable });

  const docs = Router();
  docs.get("/", (req, res) => {
    // Express also routes `/docs/` here, where the page's relative links would miss.
    if (req.originalUrl.split("?")[0]!.endsWith("/")) {
      res.status(301).setHeader("Location", "../docs");
      res.end();
      return;
    }
    res.status(200);
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.setHeader("Content-Security-Policy", csp);
    res.send(PAGE);
  });
  docs.get("/:asset", (req, res, next) => {
    const asset = req.params.asset;
    if (asset === "init.js") {
      res.status(200);
      res.setHeader("Content-Type", "text/javascript; charset=utf-8");
      cacheable(res);
      res.send(INIT);
    } else if (ALLOWED.has(asset)) files(req, res, next);
    else next();
  });

  const router = Router();
  router.get("/openapi.json", (_req, res) => {
    res.status(200);
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    res.vary("Accept-Encoding");
    res.send(spec);
  });
  router.use("/docs", docs);
  return router;
};
