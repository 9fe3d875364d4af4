import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { memoryIdempotencyStore, memoryImageRepository, type MemoryIdempotencyRecords } from "@image-api/adapters/memory";
import { loadConfig } from "../src/config.js";
import { compose } from "../src/container.js";

/**
 * The composition root loads a database driver or a storage SDK only for the backend it is configured
 * with. These packages are CommonJS, so once loaded they sit in Node's module cache, which is what this
 * reads (the test file runs in a process of its own).
 */
const cache = createRequire(import.meta.url).cache;
const PACKAGES = { pg: "/node_modules/pg/", s3: "/node_modules/@aws-sdk/client-s3/", cloudinary: "/node_modules/cloudinary/" } as const;
type Package = keyof typeof PACKAGES;
const loaded = (): Package[] => (Object.keys(PACKAGES) as Package[]).filter((p) => Object.keys(cache).some((file) => file.includes(PACKAGES[p])));

// One data dir for every step (each closes its composition first), so the embedded database is made once.
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "image-api-loading-"));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const composed = async (env: Record<string, string>, overrides: Parameters<typeof compose>[1] = {}) => {
  const config = loadConfig({ IMAGE_API_DATA_DIR: dataDir, IMAGE_API_JWT_SECRET: "j".repeat(32), IMAGE_API_URL_SIGNING_KEYS: "k".repeat(32), ...env });
  if (E.isLeft(config)) throw new Error(config.left.join("; "));
  return compose(config.right, overrides);
};

// Nothing listens on port 1: a composition that opened this database would fail.
const UNREACHABLE = "postgres://nobody@127.0.0.1:1/none";

// One test, in steps: a package once loaded stays loaded, so each step sees what the one before left.
it("opens no database for overridden adapters, and loads the pg driver, the S3 SDK and the Cloudinary SDK only when configured", async () => {
  expect(loaded(), "loaded before any composition").toEqual([]);

  // The repository and the idempotency store overridden: no database is opened, not even the one configured.
  const records: MemoryIdempotencyRecords = new Map();
  const inMemory = await composed({ IMAGE_API_DATABASE_URL: UNREACHABLE }, { images: memoryImageRepository(records), idempotency: memoryIdempotencyStore(records) });
  expect(await inMemory.probes.database()).toBe(true);
  await inMemory.close();
  expect(loaded()).toEqual([]);

  // The embedded defaults: PGlite in its worker, blobs on the filesystem.
  const embedded = await composed({});
  await embedded.close();
  expect(loaded()).toEqual([]);

  // Server PostgreSQL: the start fails on the unreachable server, having loaded the driver alone.
  await expect(composed({ IMAGE_API_DATABASE_URL: UNREACHABLE })).rejects.toThrow();
  expect(loaded()).toEqual(["pg"]);

  const s3 = await composed({ IMAGE_API_STORAGE: "s3", IMAGE_API_S3_BUCKET: "images", AWS_REGION: "eu-west-1" });
  await s3.close();
  expect(loaded()).toEqual(["pg", "s3"]);

  const cloudinary = await composed({ IMAGE_API_STORAGE: "cloudinary", CLOUDINARY_URL: "cloudinary://614335564976464:secret@cloud" });
  await cloudinary.close();
  expect(loaded()).toEqual(["pg", "s3", "cloudinary"]);
});
