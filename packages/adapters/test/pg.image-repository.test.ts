import { createServer } from "node:net";
import type { ImageRepository } from "@image-api/core";
import { anImage, imageRepositoryContract } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, test as base } from "vitest";
import { createPgPoolClient, migrate, MIGRATIONS, postgresImageRepository, type SqlClient } from "../src/postgres/index.js";
import { createTestSchema, terminateSessions, testDatabaseUrl, type TestSchema } from "./postgres.test-database.js";

/** Every migration the adapter ships, as `migrate` reports them when it applies all. */
const ALL_VERSIONS = MIGRATIONS.map((m) => m.version);

const url = testDatabaseUrl();

const unavailableTag = async (call: () => Promise<E.Either<{ _tag: string }, unknown>>): Promise<string> => {
  const result = await call();
  return E.isLeft(result) ? result.left._tag : "success";
};

/** A loopback port with nothing listening on it. */
const closedPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

if (!url) {
  describe.skip("pg image repository: IMAGE_API_TEST_DATABASE_URL is not set, server Postgres tests skipped", () => {
    base("contract", () => undefined);
  });
} else {
  let schema: TestSchema;
  let shared: SqlClient;
  beforeAll(async () => {
    schema = await createTestSchema(url, "image_repo");
    shared = createPgPoolClient({ connectionString: url, schema: schema.name, max: 10 });
    expect(await migrate(shared)()).toEqual(E.right(ALL_VERSIONS));
  });
  afterAll(async () => {
    await shared?.close();
    await schema?.drop();
  });

  const test = base.extend<{ repo: ImageRepository }>({
    repo: async ({}, use) => {
      await shared.exec("TRUNCATE images, blobs");
      await use(postgresImageRepository(shared));
    },
  });

  describe("pg image repository", () => imageRepositoryContract(test));

  describe("pg migrations", () => {
    test("instances starting together apply each migration once; later runs apply nothing", async () => {
      const fresh = await createTestSchema(url, "image_migrate");
      const clients = [1, 2, 3, 4, 5].map(() => createPgPoolClient({ connectionString: url, schema: fresh.name, max: 1 }));
      try {
        const runs = await Promise.all(clients.map((c) => migrate(c)()));
        expect(runs.filter((r) => E.isRight(r) && r.right.length > 0)).toEqual([E.right(ALL_VERSIONS)]);
        expect(runs.filter((r) => E.isRight(r) && r.right.length === 0)).toHaveLength(4);
        expect(await Promise.all(clients.map((c) => migrate(c)()))).toEqual(clients.map(() => E.right([])));
        const recorded = await clients[0]!.query("SELECT version, name FROM schema_migrations");
        expect(recorded.rows).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
      } finally {
        await Promise.all(clients.map((c) => c.close()));
        await fresh.drop();
      }
    });

    test("a failing migration rolls back whole and is not recorded", async () => {
      const broken = { version: MIGRATIONS.length + 1, name: "broken", sql: "CREATE TABLE half_done (id int); SELECT no_such_column FROM images;" };
      const failed = await migrate(shared, [...MIGRATIONS, broken])();
      expect(E.isLeft(failed) && failed.left._tag).toBe("Unavailable");
      expect((await shared.query("SELECT to_regclass('half_done') AS t")).rows).toEqual([{ t: null }]);
      expect((await shared.query("SELECT count(*)::int AS n FROM schema_migrations")).rows).toEqual([{ n: MIGRATIONS.length }]);
    });
  });

  describe("pg outage", () => {
    test("a server that refuses connections makes every call Unavailable instead of throwing", async () => {
      const port = await closedPort();
      const client = createPgPoolClient({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, max: 2 });
      const repo = postgresImageRepository(client);
      const image = anImage();
      try {
        const calls = [
          repo.findById(image.id),
          repo.listByAlbum(image.albumId, { offset: 0, limit: 10 }),
          repo.insert(image),
          repo.insertCopy(image.id, anImage()),
          repo.update(image, 1),
          repo.remove(image.id),
          repo.releaseBlob(image.blob.key),
          repo.orphanedBlobs(),
          repo.blobReferences(image.blob.key),
          migrate(client),
        ];
        for (const call of calls) expect(await unavailableTag(call)).toBe("Unavailable");
      } finally {
        await client.close();
      }
    });

    test("waiting too long for a free connection is Unavailable", async () => {
      const client = createPgPoolClient({ connectionString: url, schema: schema.name, max: 1, connectionTimeoutMillis: 200 });
      let release: () => void = () => undefined;
      const holding = client.transaction(() => new Promise<void>((resolve) => (release = resolve)));
      try {
        // Give the transaction time to take the only connection.
        await new Promise((r) => setTimeout(r, 100));
        expect(await unavailableTag(postgresImageRepository(client).findById(anImage().id))).toBe("Unavailable");
      } finally {
        release();
        await holding;
        await client.close();
      }
    });

    test("a connection the server drops neither crashes the process nor breaks later calls", async () => {
      const applicationName = `image_repo_drop_${process.pid}`;
      const idleErrors: Error[] = [];
      const client = createPgPoolClient({
        connectionString: `${url}${url.includes("?") ? "&" : "?"}application_name=${applicationName}`,
        schema: schema.name,
        max: 1,
        onIdleError: (e) => idleErrors.push(e),
      });
      const repo = postgresImageRepository(client);
      try {
        const image = anImage();
        await shared.exec("TRUNCATE images, blobs");
        expect(await repo.insert(image)()).toEqual(E.right(undefined));

        expect(await terminateSessions(url, applicationName)).toBe(1);
        await expect.poll(() => idleErrors.length).toBe(1);
        expect(await repo.findById(image.id)()).toEqual(E.right(image));
      } finally {
        await client.close();
      }
    });
  });
}
