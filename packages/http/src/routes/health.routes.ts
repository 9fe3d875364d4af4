import { Router, type Request, type Response } from "express";
import { DEFAULT_TENANT, type BlobKey, type ImageId } from "@image-api/core";
import type { AppDeps } from "../deps.js";
import { sendJson } from "../send.js";

/** An id no image has: looking it up is one indexed query whose only interesting answer is an outage. */
const PROBE_ID = "00000000-0000-4000-8000-000000000000" as ImageId;
const PROBE_KEY = "readiness-probe" as BlobKey;

/** `starting` until the server has composed and swept, `stopping` from the moment a shutdown begins. */
export interface Lifecycle {
  state: "starting" | "ready" | "stopping";
}

export interface Probes {
  readonly database: () => Promise<boolean>;
  /** Absent where asking the backend costs rate-limited calls (Cloudinary's Admin API). */
  readonly storage?: () => Promise<boolean>;
}

export const defaultProbes = (deps: Pick<AppDeps, "images" | "blobs">): Probes => ({
  database: async () => {
    const r = await deps.images.findById(DEFAULT_TENANT, PROBE_ID)();
    return !(r._tag === "Left" && r.left._tag === "Unavailable");
  },
  storage: async () => (await deps.blobs.exists(PROBE_KEY)())._tag === "Right",
});

const guarded = (probe: () => Promise<boolean>): Promise<boolean> => probe().catch(() => false);

/**
 * `/livez`: the process answers (no I/O, so a slow database never gets it restarted).
 * `/readyz`: it should get traffic: started, not stopping, database and storage reachable.
 * `/healthz`: the database answers, as before.
 */
export const healthRouters = (probes: Probes, lifecycle: Lifecycle): Record<"livez" | "readyz" | "healthz", Router> => {
  const livez = (_req: Request, res: Response) => sendJson(res, 200, { status: "ok" });
  const healthz = async (_req: Request, res: Response) => {
    if (await guarded(probes.database)) sendJson(res, 200, { status: "ok" });
    else sendJson(res, 503, { status: "unavailable", database: "down" });
  };
  const readyz = async (_req: Request, res: Response) => {
    if (lifecycle.state !== "ready") {
      sendJson(res, 503, { status: lifecycle.state });
      return;
    }
    const [database, storage] = await Promise.all([guarded(probes.database), probes.storage ? guarded(probes.storage) : Promise.resolve(true)]);
    const checks = { database: database ? "up" : "down", storage: probes.storage ? (storage ? "up" : "down") : "not probed" };
    sendJson(res, database && storage ? 200 : 503, { status: database && storage ? "ready" : "unavailable", checks });
  };
  const router = (handler: (req: Request, res: Response) => unknown): Router => Router().get("/", handler);
  return { livez: router(livez), readyz: router(readyz), healthz: router(healthz) };
};
