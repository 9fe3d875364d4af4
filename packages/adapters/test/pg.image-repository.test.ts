import { DEFAULT_TENANT } from "@image-api/core";
import { anImage, freeLoopbackPort, idempotencyContract, imageRepositoryContract } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, test as base } from "vitest";
import { migrate, postgresImageRepository, type SqlClient } from "../src/postgres/index.js";
import { createPgPoolClient } from "../src/postgres/pg-pool.sql-client.js";
import {
  ALL_VERSIONS,
  expectEveryCallUnavailable,
  expectFailingMigrationLeavesNoTrace,
  expectMigrationsApplyOnce,
  repositoryTest,
} from "./postgres.repository-checks.js";
import { createTestSchema, terminateSessions, testDatabaseUrl, type TestSchema } from "./postgres.test-database.js";

const url = testDatabaseUrl();

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

  const test = repositoryTest(() => shared);

  describe("pg image repository", () => imageRepositoryContract(test));
  describe("pg idempotency keys", () => idempotencyContract(test));

  describe("pg plans", () => {
    test("a duplicate's generic plan is made again once it is replanAfterMillis old, so one made on tiny tables stops scanning them whole", async () => {
      const fresh = await createTestSchema(url, "image_plan");
      let clock = 0;
      // One connection, so the prepared statement and the statistics read are that session's own.
      const client = createPgPoolClient({ connectionString: url, schema: fresh.name, max: 1, replanAfterMillis: 10_000, now: () => clock });
      try {
        await migrate(client)();
        const repo = postgresImageRepository(client);
        const source = anImage();
        expect(E.isRight(await repo.insert(source)())).toBe(true);
        // As autovacuum would after the first few rows: the planner now knows both tables are tiny.
        await client.query("ANALYZE images");
        await client.query("ANALYZE blobs");
        const duplicates = async (n: number) => {
          for (let i = 0; i < n; i++)
            expect(E.isRight(await repo.duplicate(DEFAULT_TENANT, source.id, { kind: "tenant" }, { id: anImage().id, createdBy: null, createdAt: new Date() })())).toBe(true);
        };
        const genericPlans = async () => {
          const { rows } = await client.query<{ n: string }>("SELECT generic_plans::text AS n FROM pg_prepared_statements WHERE name = 'image_api_duplicate'");
          return Number(rows[0]!.n);
        };
        // Past pg's five custom plans the cached generic plan is used: it is made now, on one-page tables.
        await duplicates(8);
        expect(await genericPlans()).toBeGreaterThan(0);

        await client.query(
          `INSERT INTO blobs SELECT (jsonb_populate_record(b, jsonb_build_object('key', 'grown-' || g))).* FROM blobs b, generate_series(1, 5000) g WHERE b.key = $1`,
          [source.blob.key],
        );
        await client.query(
          `INSERT INTO images SELECT (jsonb_populate_record(i, jsonb_build_object('id', gen_random_uuid()))).* FROM images i, generate_series(1, 5000) WHERE i.id = $1`,
          [source.id],
        );
        const seqScans = async () => {
          // Flush this session's counters, then read them afresh.
          await client.query("SELECT pg_stat_force_next_flush()");
          await client.query("SELECT pg_stat_clear_snapshot()");
          const { rows } = await client.query<{ relname: string; n: string }>(
            "SELECT relname, seq_scan::text AS n FROM pg_stat_user_tables WHERE relid IN ('images'::regclass, 'blobs'::regclass)",
          );
          return Object.fromEntries(rows.map((r) => [r.relname, Number(r.n)]));
        };
        const scansDuring = async (work: () => Promise<unknown>) => {
          const before = await seqScans();
          await work();
          const after = await seqScans();
          return { images: after.images! - before.images!, blobs: after.blobs! - before.blobs! };
        };
        // The counters move: a scan of the whole table counts one.
        expect(await scansDuring(() => client.query("SELECT count(*) FROM images WHERE title IS NOT DISTINCT FROM 'none'"))).toEqual({ images: 1, blobs: 0 });
        // The plan made on the tiny tables, still cached: every duplicate scans `images` whole.
        expect((await scansDuring(() => duplicates(5))).images).toBe(5);

        clock += 10_000;
        const generic = await genericPlans();
        expect(await scansDuring(() => duplicates(5))).toEqual({ images: 0, blobs: 0 });
        // Made again on the grown tables, and still generic: no planning per call.
        expect((await genericPlans()) - generic).toBe(5);
      } finally {
        await client.close();
        await fresh.drop();
      }
    });
  });

  describe("pg migrations", () => {
    test("instances starting together apply each migration once; later runs apply nothing", async () => {
      const fresh = await createTestSchema(url, "image_migrate");
      const clients = [1, 2, 3, 4, 5].map(() => createPgPoolClient({ connectionString: url, schema: fresh.name, max: 1 }));
      try {
        await expectMigrationsApplyOnce(clients);
      } finally {
        await Promise.all(clients.map((c) => c.close()));
        await fresh.drop();
      }
    });

    test("a failing migration rolls back whole and is not recorded", async () => {
      await expectFailingMigrationLeavesNoTrace(shared);
    });
  });

  describe("pg outage", () => {
    test("a server that refuses connections makes every call Unavailable instead of throwing", async () => {
      const port = await freeLoopbackPort();
      const client = createPgPoolClient({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, max: 2 });
      try {
        await expectEveryCallUnavailable(client, anImage());
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
        const found = await postgresImageRepository(client).findById(DEFAULT_TENANT, anImage().id)();
        expect(E.isLeft(found) && found.left._tag).toBe("Unavailable");
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
        expect(await repo.findById(DEFAULT_TENANT, image.id)()).toEqual(E.right(image));
      } finally {
        await client.close();
      }
    });
  });
}
