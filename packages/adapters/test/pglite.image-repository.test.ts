import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ImageRepository } from "@image-api/core";
import { anImage, imageRepositoryContract } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, test as base } from "vitest";
import { createPgliteClient, migrate, MIGRATIONS, postgresImageRepository, type SqlClient } from "../src/postgres/index.js";

/** Every migration the adapter ships, as `migrate` reports them when it applies all. */
const ALL_VERSIONS = MIGRATIONS.map((m) => m.version);

// Starting PGlite takes seconds, so the file shares one instance and empties it before each test.
let shared: SqlClient;
beforeAll(async () => {
  shared = await createPgliteClient();
  expect(await migrate(shared)()).toEqual(E.right(ALL_VERSIONS));
});
afterAll(() => shared.close());

const test = base.extend<{ repo: ImageRepository }>({
  repo: async ({}, use) => {
    await shared.exec("TRUNCATE images, blobs");
    await use(postgresImageRepository(shared));
  },
});

describe("PGlite image repository", () => imageRepositoryContract(test));

describe("PGlite migrations", () => {
  test("concurrent runs apply each migration once, later runs apply nothing, a failing one leaves no trace", async () => {
    const client = await createPgliteClient();
    try {
      const runs = await Promise.all([1, 2, 3, 4].map(() => migrate(client)()));
      expect(runs.filter((r) => E.isRight(r) && r.right.length > 0)).toEqual([E.right(ALL_VERSIONS)]);
      expect(runs.filter((r) => E.isRight(r) && r.right.length === 0)).toHaveLength(3);
      expect(await migrate(client)()).toEqual(E.right([]));
      expect((await client.query("SELECT version, name FROM schema_migrations")).rows).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));

      const broken = { version: MIGRATIONS.length + 1, name: "broken", sql: "CREATE TABLE half_done (id int); SELECT no_such_column FROM images;" };
      const failed = await migrate(client, [...MIGRATIONS, broken])();
      expect(E.isLeft(failed) && failed.left._tag).toBe("Unavailable");
      expect((await client.query("SELECT to_regclass('half_done') AS t")).rows).toEqual([{ t: null }]);
      expect((await client.query("SELECT count(*)::int AS n FROM schema_migrations")).rows).toEqual([{ n: MIGRATIONS.length }]);
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
        expect(await postgresImageRepository(second).findById(image.id)()).toEqual(E.right(image));
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("PGlite outage", () => {
  test("a closed database makes every call Unavailable instead of throwing", async () => {
    const client = await createPgliteClient();
    expect(await migrate(client)()).toEqual(E.right(ALL_VERSIONS));
    const repo = postgresImageRepository(client);
    const image = anImage();
    expect(await repo.insert(image)()).toEqual(E.right(undefined));
    await client.close();

    const calls = [
      repo.findById(image.id),
      repo.listByAlbum(image.albumId, { offset: 0, limit: 10 }),
      repo.insert(anImage()),
      repo.insertCopy(image.id, anImage()),
      repo.update(image, 1),
      repo.remove(image.id),
      repo.releaseBlob(image.blob.key),
      repo.orphanedBlobs(),
      repo.blobReferences(image.blob.key),
      migrate(client),
    ];
    for (const call of calls) {
      const result = await call();
      expect(E.isLeft(result) && result.left._tag).toBe("Unavailable");
    }
  });
});
