import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { startLocalS3 } from "../src/containers/s3rver.local.js";

describe("startLocalS3", () => {
  it("serves its bucket on loopback until stopped", async () => {
    const s3 = await startLocalS3();
    const { endpoint, region, bucket, accessKeyId, secretAccessKey } = s3;
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: "a/b.txt", Body: "hello", ContentType: "text/plain" }));
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "a/b.txt" }));
      expect(got.ContentType).toBe("text/plain");
      expect(await got.Body?.transformToString()).toBe("hello");
      await s3.stop();
      await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: "a/b.txt" }))).rejects.toThrow();
    } finally {
      client.destroy();
    }
  });

  it("gives each server its own storage", async () => {
    const [a, b] = await Promise.all([startLocalS3(), startLocalS3()]);
    const client = (s: typeof a) =>
      new S3Client({ endpoint: s.endpoint, region: s.region, forcePathStyle: true, credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } });
    const [ca, cb] = [client(a), client(b)];
    try {
      expect(a.endpoint).not.toBe(b.endpoint);
      await ca.send(new PutObjectCommand({ Bucket: a.bucket, Key: "k", Body: "only in a" }));
      await expect(cb.send(new GetObjectCommand({ Bucket: b.bucket, Key: "k" }))).rejects.toThrow();
    } finally {
      ca.destroy();
      cb.destroy();
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
