import { Router } from "express";
import type { AlbumId } from "@image-api/core";
import type { AppDeps } from "../deps.js";
import { sendJson } from "../send.js";

/** Ready when the database answers: a load balancer can take a failing instance out. */
export const healthRouter = (deps: AppDeps): Router => {
  const router = Router();
  router.get("/", async (_req, res) => {
    const probe = await deps.images.listByAlbum("healthz" as AlbumId, { offset: 0, limit: 1 })();
    if (probe._tag === "Left") sendJson(res, 503, { status: "unavailable", database: "down" });
    else sendJson(res, 200, { status: "ok" });
  });
  return router;
};
