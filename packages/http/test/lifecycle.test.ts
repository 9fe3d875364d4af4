import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { starting, startServer } from "../src/server.js";
import { SECRET, URL_KEY } from "./harness.js";
import { defaultContract } from "./openapi-validation.js";
import { seedDatabase } from "./pglite-template.js";
import { ownHeaderOrder, SEED_ORDER, TRANSPORT } from "./seed-contract.js";

const SOURCE_ID = "4c4401c9-9cb1-4c50-b15e-b171de99af5e";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "image-api-lifecycle-"));
  await seedDatabase(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("start", () => {
  it("sweeps the temp files of writes a crash interrupted, and only those", async () => {
    const staging = join(dir, "blobs", ".tmp");
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, ".tmp-crashed-upload"), Buffer.alloc(1024));
    await writeFile(join(staging, ".tmp-in-flight"), Buffer.alloc(1024));
    const longAgo = new Date(Date.now() - 3 * 3600_000);
    await utimes(join(staging, ".tmp-crashed-upload"), longAgo, longAgo);
    const config = loadConfig({ PORT: "0", IMAGE_API_DATA_DIR: dir, IMAGE_API_JWT_SECRET: SECRET, IMAGE_API_URL_SIGNING_KEYS: URL_KEY });
    if (E.isLeft(config)) throw new Error(config.left.join("; "));
    const running = await startServer(config.right);
    try {
      expect(await readdir(staging)).toEqual([".tmp-in-flight"]);
    } finally {
      await running.stop();
      await rm(join(staging, ".tmp-in-flight"), { force: true });
    }
  });
});

describe("while starting", () => {
  it("answers every route but /livez 503 with Retry-After and the family's headers, in the family's order, as documented", async () => {
    const contract = defaultContract();
    const buffered = (r: request.Test) => r.buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done(null, Buffer.concat(chunks)));
    });
    const refused = await buffered(request(starting).post(`/api/v1/images/${SOURCE_ID}/duplicate`).set("X-Request-Id", "probe-1"));
    expect(refused.status).toBe(503);
    // The seed's order without its token; the refusal's message before Content-Type, as on every error; Retry-After last before the length.
    const seed = SEED_ORDER.filter((h) => h !== "X-token" && h !== "Content-Length");
    const contentType = seed.indexOf("Content-Type");
    expect(ownHeaderOrder(refused)).toEqual([...seed.slice(0, contentType), "X-message", ...seed.slice(contentType), "Retry-After", "Content-Length"]);
    expect(refused.headers["x-request-id"]).toBe("probe-1");
    expect(refused.headers["x-message"]).toBe("the service is starting");
    expect(refused.headers["retry-after"]).toBe("1");
    expect(Number(refused.headers["x-runtime"])).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(String(refused.body))).toEqual({ status: "starting", error: { code: "service_unavailable", message: "the service is starting" } });

    const ready = await buffered(request(starting).get("/readyz").set("X-Request-Id", "bad id with spaces"));
    expect(ready.status).toBe(503);
    expect(ready.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const alive = await buffered(request(starting).get("/livez"));
    expect(alive.status).toBe(200);
    expect(alive.headers["retry-after"]).toBeUndefined();
    expect(alive.headers["x-message"]).toBeUndefined();
    expect(JSON.parse(String(alive.body))).toEqual({ status: "ok" });

    for (const [method, url, answer] of [
      ["POST", `/api/v1/images/${SOURCE_ID}/duplicate`, refused],
      ["GET", "/readyz", ready],
      ["GET", "/livez", alive],
    ] as const) {
      const headers = Object.fromEntries(Object.entries(answer.headers).filter(([n]) => ![...TRANSPORT].some((t) => t.toLowerCase() === n)));
      expect(contract.check({ method, url, requestHeaders: {}, status: answer.status, headers, body: answer.body as Buffer }), `${method} ${url}`).toEqual([]);
    }
  });
});

describe("shutdown", () => {
  it("stops taking requests, reports stopping, and gives up on a request that never ends after the shutdown timeout", async () => {
    const config = loadConfig({ PORT: "0", IMAGE_API_DATA_DIR: dir, IMAGE_API_JWT_SECRET: SECRET, IMAGE_API_URL_SIGNING_KEYS: URL_KEY, IMAGE_API_SHUTDOWN_TIMEOUT_SECONDS: "1" });
    if (E.isLeft(config)) throw new Error(config.left.join("; "));
    const running = await startServer(config.right);
    expect((await fetch(`${running.url}/readyz`)).status).toBe(200);
    const port = new URL(running.url).port;
    // An upload whose body never finishes arriving: without a bound, close() would wait for it forever.
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(`POST /api/v1/albums/A/images HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000\r\n\r\n--b\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const t0 = performance.now();
    const stopped = running.stop();
    expect(running.lifecycle.state).toBe("stopping");
    await stopped;
    const took = performance.now() - t0;
    socket.destroy();
    // The bound is 1 s; generous slack for a loaded machine, far below "forever".
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(8000);
    await expect(fetch(`${running.url}/livez`)).rejects.toThrow();
  }, 60_000);
});
