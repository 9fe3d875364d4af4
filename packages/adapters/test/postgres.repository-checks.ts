import { type IdempotencyStore, type Image, type ImageRepository, DEFAULT_TENANT } from "@image-api/core";
import { anImage } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import { expect, test as base } from "vitest";
import { migrate, MIGRATIONS, postgresIdempotencyStore, postgresImageRepository, type SqlClient } from "../src/postgres/index.js";

/** Checks the pg and PGlite test files share: the same SQL runs on both, so it must behave the same. */

/** Every migration the adapter ships, as `migrate` reports them when it applies all. */
export const ALL_VERSIONS = MIGRATIONS.map((m) => m.version);

/** A test whose `repo` works on `client()`, emptied first: one migrated database serves a whole file. */
export const repositoryTest = (client: () => SqlClient) =>
  base.extend<{ repo: ImageRepository; idempotency: IdempotencyStore }>({
    repo: async ({}, use) => {
      await client().exec("TRUNCATE images, blobs, idempotency_keys");
      await use(postgresImageRepository(client()));
    },
    idempotency: async ({ repo }, use) => {
      void repo; // emptied with the repository's tables
      await use(postgresIdempotencyStore(client()));
    },
  });

/** `migrate` started on every client at once (all on one fresh database) applies each migration once; later runs apply nothing. */
export const expectMigrationsApplyOnce = async (clients: readonly SqlClient[]): Promise<void> => {
  const runs = await Promise.all(clients.map((c) => migrate(c)()));
  expect(runs.filter((r) => E.isRight(r) && r.right.length > 0)).toEqual([E.right(ALL_VERSIONS)]);
  expect(runs.filter((r) => E.isRight(r) && r.right.length === 0)).toHaveLength(clients.length - 1);
  expect(await Promise.all(clients.map((c) => migrate(c)()))).toEqual(clients.map(() => E.right([])));
  const recorded = await clients[0]!.query("SELECT version, name FROM schema_migrations");
  expect(recorded.rows).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
};

/** A migration that fails halfway rolls back whole: neither its table nor its record remains. */
export const expectFailingMigrationLeavesNoTrace = async (client: SqlClient): Promise<void> => {
  const broken = { version: MIGRATIONS.length + 1, name: "broken", sql: "CREATE TABLE half_done (id int); SELECT no_such_column FROM images;" };
  const failed = await migrate(client, [...MIGRATIONS, broken])();
  expect(E.isLeft(failed) && failed.left._tag).toBe("Unavailable");
  expect((await client.query("SELECT to_regclass('half_done') AS t")).rows).toEqual([{ t: null }]);
  expect((await client.query("SELECT count(*)::int AS n FROM schema_migrations")).rows).toEqual([{ n: MIGRATIONS.length }]);
};

/** With the database out of reach every repository function, and `migrate`, is Unavailable instead of throwing. */
export const expectEveryCallUnavailable = async (client: SqlClient, image: Image): Promise<void> => {
  const repo = postgresImageRepository(client);
  const calls = {
    findById: repo.findById(DEFAULT_TENANT, image.id),
    listByAlbum: repo.listByAlbum(DEFAULT_TENANT, image.albumId, { offset: 0, limit: 10 }),
    reserveBlob: repo.reserveBlob(anImage().blob, new Date()),
    insert: repo.insert(anImage()),
    insertCopy: repo.insertCopy(image.id, anImage()),
    update: repo.update(image, 1),
    remove: repo.remove(DEFAULT_TENANT, image.id),
    removeAll: repo.removeAll(DEFAULT_TENANT, [image.id], { kind: "tenant" }),
    move: repo.move(DEFAULT_TENANT, [{ id: image.id, to: image.albumId }], { kind: "tenant" }, new Date()),
    claim: postgresIdempotencyStore(client).claim({ tenant: DEFAULT_TENANT, userId: "", key: "k" }, "f", new Date(), { expiredBefore: new Date(0), abandonedBefore: new Date(0) }),
    abandonBlob: repo.abandonBlob(image.blob),
    releaseBlob: repo.releaseBlob(image.blob.key),
    orphanedBlobs: repo.orphanedBlobs(),
    blobReferences: repo.blobReferences(image.blob.key),
    migrate: migrate(client),
  };
  for (const [name, call] of Object.entries(calls)) {
    const result: E.Either<{ readonly _tag: string }, unknown> = await call();
    expect(E.isLeft(result) && result.left._tag, name).toBe("Unavailable");
  }
};
