import { DEFAULT_TENANT } from "@image-api/core";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { anImage, idempotencyContract, imageRepositoryContract } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { migrate, postgresImageRepository, type SqlClient } from "../src/postgres/index.js";
import { createPgliteClient } from "../src/postgres/pglite.sql-client.js";
import {
  ALL_VERSIONS,
  expectEveryCallUnavailable,
  expectFailingMigrationLeavesNoTrace,
  expectMigrationsApplyOnce,
  repositoryTest,
} from "./postgres.repository-checks.js";

// Starting PGlite takes seconds, so the file shares one instance and empties it before each test.
let shared: SqlClient;
beforeAll(async () => {
  shared = await createPgliteClient();
  expect(await migrate(shared)()).toEqual(E.right(ALL_VERSIONS));
});
afterAll(() => shared.close());

const test = repositoryTest(() => shared);

describe("PGlite image repository", () => imageRepositoryContract(test));
describe("PGlite idempotency keys", () => idempotencyContract(test));

describe("PGlite migrations", () => {
  test("concurrent runs apply each migration once, later runs apply nothing, a failing one leaves no trace", async () => {
    const client = await createPgliteClient();
    try {
      await expectMigrationsApplyOnce([client, client, client, client]);
      await expectFailingMigrationLeavesNoTrace(client);
    } finally {
      await client.close();
    }
  });

  test("a database on disk keeps its schema and rows across restarts", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "image-api-pglite-"));
    try {
      const image = anImage();
      const first = await createPgliteClient({ dataDir });
      expect(await migrate(first)()).toEqual(E.right(ALL_VERSIONS));
      expect(await postgresImageRepository(first).insert(image)()).toEqual(E.right(undefined));
      await first.close();

      const second = await createPgliteClient({ dataDir });
      try {
        expect(await migrate(second)()).toEqual(E.right([]));
        expect(await postgresImageRepository(second).findById(DEFAULT_TENANT, image.id)()).toEqual(E.right(image));
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("PGlite data dir", () => {
  test("is created with its missing parents (a fresh IMAGE_API_DATA_DIR with S3 or Cloudinary storage)", async () => {
    const root = await mkdtemp(join(tmpdir(), "image-api-pglite-"));
    try {
      const client = await createPgliteClient({ dataDir: join(root, "data", "db") });
      expect(await migrate(client)()).toEqual(E.right(ALL_VERSIONS));
      await client.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("PGlite checkpoints", () => {
  // Single-user Postgres never checkpoints on a timer, so crash recovery would replay all WAL since the start.
  test("run on the configured interval, and only then", async () => {
    const redo = async (c: SqlClient) => (await c.query<{ lsn: string }>("SELECT redo_lsn::text AS lsn FROM pg_control_checkpoint()")).rows[0]!.lsn;
    const work = async (c: SqlClient) => {
      await c.exec("CREATE TABLE IF NOT EXISTS chk (n int)");
      for (let i = 0; i < 20; i++) await c.query("INSERT INTO chk VALUES ($1)", [i]);
      await new Promise((resolve) => setTimeout(resolve, 400));
    };
    const timed = await createPgliteClient({ checkpointIntervalMs: 100 });
    const untimed = await createPgliteClient();
    try {
      const [before, beforeUntimed] = [await redo(timed), await redo(untimed)];
      await Promise.all([work(timed), work(untimed)]);
      expect(await redo(timed)).not.toBe(before);
      expect(await redo(untimed)).toBe(beforeUntimed);
    } finally {
      await timed.close();
      await untimed.close();
    }
  });
});

describe("PGlite outage", () => {
  test("a closed database makes every call Unavailable instead of throwing", async () => {
    const client = await createPgliteClient();
    expect(await migrate(client)()).toEqual(E.right(ALL_VERSIONS));
    const image = anImage();
    expect(await postgresImageRepository(client).insert(image)()).toEqual(E.right(undefined));
    await client.close();
    await expectEveryCallUnavailable(client, image);
  });
});
