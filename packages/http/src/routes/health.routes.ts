import { Router } from "express";
import type { ImageId } from "@image-api/core";
import type { AppDeps } from "../deps.js";
import { sendJson } from "../send.js";

/** An id no image has: looking it up is one indexed query whose only interesting answer is an outage. */
const PROBE_ID = "00000000-0000-4000-8000-000000000000" as ImageId;

/** Ready when the database answers: a load balancer can take a failing instance out. */
export const healthRouter = (deps: AppDeps): Router => {
  const router = Router();
  router.get("/", async (_req, res) => {
    const probe = await deps.images.findById(PROBE_ID)();
    if (probe._tag === "Left" && probe.left._tag === "Unavailable") sendJson(res, 503, { status: "unavailable", database: "down" });
    else sendJson(res, 200, { status: "ok" });
  });
  return router;
};
