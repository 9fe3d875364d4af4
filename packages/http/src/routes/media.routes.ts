import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Router } from "express";
import { deliverRendition } from "@image-api/core";
import type { AppDeps } from "../deps.js";
import { sendDomainError } from "../send.js";

/** RFC 5987 leaves `'()*` out of the characters `filename*` may carry bare; encodeURIComponent keeps them. */
const extValue = (name: string): string => encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** RFC 6266 filename: an ASCII fallback plus the exact name in `filename*`. */
export const contentDisposition = (name: string): string => {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${extValue(name)}`;
};

/** Serves signed delivery URLs; no token needed, the URL's signature is the authorisation. */
export const mediaRouter = (deps: AppDeps): Router => {
  const router = Router();
  router.get("/*path", async (req, res, next) => {
    try {
      const result = await deliverRendition(deps)(req.originalUrl)();
      if (result._tag === "Left") {
        sendDomainError(res, result.left);
        return;
      }
      const { body, bytes, contentType, target } = result.right;
      res.status(200);
      res.setHeader("Content-Type", contentType);
      // Signed URLs name immutable bytes, so they may be cached until they expire.
      res.setHeader("Cache-Control", "private, max-age=3600");
      res.removeHeader("Pragma");
      res.removeHeader("Expires");
      if (target.rendition.attachment) res.setHeader("Content-Disposition", contentDisposition(`${target.filename}.${target.format}`));
      res.setHeader("Content-Length", String(bytes));
      if (req.method === "HEAD") {
        res.end();
        return;
      }
      await pipeline(Readable.from(body), res);
    } catch (e) {
      if (res.headersSent) res.destroy(e as Error);
      else next(e);
    }
  });
  return router;
};
