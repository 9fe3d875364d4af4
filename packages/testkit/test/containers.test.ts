import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { assertTestDatabase, dockerAvailable, isCi, planPostgres, planS3 } from "../src/containers/availability.js";
import { testDatabaseUrl, testS3 } from "../src/containers/inject.js";

const databaseUrl = testDatabaseUrl();
const s3 = testS3();

describe.skipIf(!databaseUrl)("the run's Postgres", () => {
  const client = new pg.Client({ connectionString: databaseUrl });
  afterAll(() => client.end());

  it("answers a query in the test database", async () => {
    await client.connect();
    const { rows } = await client.query<{ one: number; db: string }>("select 1 as one, current_database() as db");
    expect(rows).toEqual([{ one: 1, db: expect.stringContaining("test") }]);
  });
});

describe.skipIf(!s3)("the run's S3 server", () => {
  // A skipped suite is still collected, so the client is only made once a test runs.
  const clients: S3Client[] = [];
  const connect = (): { client: S3Client; bucket: string } => {
    const { endpoint, region, bucket, accessKeyId, secretAccessKey } = s3!;
    const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
    clients.push(client);
    return { client, bucket };
  };
  afterAll(() => clients.forEach((c) => c.destroy()));

  it("stores and returns an object in the provided bucket", async () => {
    const { client, bucket } = connect();
    const key = `containers-test/${Date.now()}.txt`;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "hello", ContentType: "text/plain" }));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(got.ContentType).toBe("text/plain");
    expect(await got.Body?.transformToString()).toBe("hello");
  });

  it("creates further buckets", async () => {
    const { client } = connect();
    const bucket = `created-${Date.now()}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: "k", Body: new Uint8Array([1, 2, 3]) }));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "k" }));
    expect([...((await got.Body?.transformToByteArray()) ?? [])]).toEqual([1, 2, 3]);
  });
});

describe("where the services come from", () => {
  const noDocker = { DOCKER_HOST: "unix:///nonexistent/docker.sock" };

  it("prefers an explicit database URL", async () => {
    const url = "postgres://u@db.example:5432/images_test";
    expect(await planPostgres({ IMAGE_API_TEST_DATABASE_URL: url, IMAGE_API_TEST_POSTGRES_IMAGE: "x" })).toEqual({
      kind: "external",
      value: url,
    });
  });

  it("refuses a database whose name does not say it is for tests", async () => {
    expect(() => assertTestDatabase("postgres://u@db.example/images")).toThrow(/must contain "test"/);
    await expect(planPostgres({ IMAGE_API_TEST_DATABASE_URL: "postgres://u@h/prod" })).rejects.toThrow(/"prod"/);
  });

  it("prefers an explicit S3 endpoint, with s3rver's credentials by default", async () => {
    expect(await planS3({ IMAGE_API_TEST_S3_ENDPOINT: "http://127.0.0.1:4569" })).toEqual({
      kind: "external",
      value: {
        endpoint: "http://127.0.0.1:4569",
        bucket: "test-bucket",
        region: "us-east-1",
        accessKeyId: "S3RVER",
        secretAccessKey: "S3RVER",
      },
    });
  });

  it("starts a container when Docker and the image are there", async () => {
    const plan = await planPostgres({ IMAGE_API_TEST_POSTGRES_IMAGE: "image-api-test/postgres:x" });
    // This machine may have no Docker; the image name only matters when it does.
    expect(plan).toEqual(
      (await dockerAvailable())
        ? { kind: "container", image: "image-api-test/postgres:x" }
        : expect.objectContaining({ kind: "skip" }),
    );
    const withoutDocker = await planS3({ ...noDocker, IMAGE_API_TEST_S3_IMAGE: "image-api-test/s3:x" });
    expect(withoutDocker).toMatchObject({ kind: "skip", reason: expect.stringContaining("Docker") });
  });

  it("finds no Docker behind a missing socket or a closed port", async () => {
    expect(await dockerAvailable(noDocker)).toBe(false);
    expect(await dockerAvailable({ DOCKER_HOST: "tcp://127.0.0.1:1" })).toBe(false);
  });

  it("skips without an image or Docker, but fails under CI", async () => {
    expect(await planPostgres({})).toMatchObject({ kind: "skip", reason: expect.stringContaining("IMAGE_API_TEST_POSTGRES_IMAGE") });
    await expect(planPostgres({ CI: "true" })).rejects.toThrow(/CI=true/);
    await expect(planS3({ ...noDocker, CI: "true", IMAGE_API_TEST_S3_IMAGE: "image-api-test/s3:x" })).rejects.toThrow(/Docker/);
    expect(isCi({ CI: "true" })).toBe(true);
    expect(isCi({})).toBe(false);
  });
});
