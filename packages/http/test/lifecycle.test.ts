import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { startServer } from "../src/server.js";
import { SECRET, URL_KEY } from "./harness.js";
import { seedDatabase } from "./pglite-template.js";

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
