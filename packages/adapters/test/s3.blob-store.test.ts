import { createHash } from "node:crypto";
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { streamOf, type BlobKey, type BlobStore, type ByteStream } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import { blobStoreContract, freeLoopbackPort } from "@image-api/testkit";
import { afterAll, beforeAll, describe, expect, it, test } from "vitest";
import { s3BlobStore } from "../src/s3/index.js";
import { freshPrefix, s3Target, type S3Target } from "./s3.target.js";

const MB = 1024 * 1024;
const key = (k: string) => k as BlobKey;

let target: S3Target;
let client: S3Client;
beforeAll(async () => {
  target = await s3Target();
  client = target.client();
});
afterAll(async () => {
  await target?.stop();
});

/** Deterministic, non-repeating-per-chunk bytes so a misplaced part changes the digest. */
const chunkOf = (index: number, size: number) => {
  const chunk = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) chunk[i] = (index * 31 + i / 4096) & 0xff;
  chunk[size - 1] = index & 0xff;
  return chunk;
};

async function* chunks(count: number, size: number, produced = { count: 0 }, failAfter = Infinity): ByteStream {
  for (let i = 0; i < count; i++) {
    if (i === failAfter) throw new Error("client went away");
    produced.count += 1;
    yield chunkOf(i, size);
  }
}

const digest = async (body: ByteStream) => {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const c of body) {
    hash.update(c);
    bytes += c.byteLength;
  }
  return { sha256: hash.digest("hex"), bytes };
};

const text = async (body: ByteStream) => {
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts).toString("utf8");
};

/** Names of the S3 operations the client sends, in order. */
const recordCommands = (c: S3Client, onCommand: (name: string) => void = () => {}) => {
  const seen: string[] = [];
  c.middlewareStack.add(
    (next, context) => (args) => {
      const name = context.commandName ?? "unknown";
      seen.push(name);
      onCommand(name);
      return next(args);
    },
    { step: "initialize", name: "recordCommands" },
  );
  return seen;
};

const objectKeys = async (prefix: string) => {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key).sort();
};

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};

const storeFor = (prefix = freshPrefix(), c: S3Client = client): BlobStore => s3BlobStore({ client: c, bucket: target.bucket, prefix });

/**
 * s3rver rewrites an object's file in place, so a reader racing an overwrite can see it torn; S3 and
 * real S3-compatible servers replace objects atomically. That contract test needs the real thing.
 */
const NEEDS_ATOMIC_OVERWRITES = /never a mix/;

const storeTest = test.extend<{ store: BlobStore }>({
  // A fresh prefix per test: an empty store inside the shared bucket.
  store: async ({ task, skip }, use) => {
    if (target.server === "s3rver" && NEEDS_ATOMIC_OVERWRITES.test(task.name)) skip("s3rver overwrites objects in place");
    await use(storeFor());
  },
});

describe("s3BlobStore", () => blobStoreContract(storeTest));

describe("s3BlobStore on a real S3 server", () => {
  it("lays objects out as <prefix>blobs/<key> and <prefix>renditions/<key>/<base64url(name)>", async () => {
    const prefix = freshPrefix();
    const store = storeFor(prefix.slice(0, -1)); // the trailing "/" is implied
    right(await store.put(key("k1"), streamOf(new TextEncoder().encode("original")), "image/png")());
    right(await store.putRendition(key("k1"), "c_fit,h_1920,w_1920/fl_attachment", new TextEncoder().encode("small"), "image/jpeg")());

    expect(await objectKeys(prefix)).toEqual([
      `${prefix}blobs/k1`,
      `${prefix}renditions/k1/${Buffer.from("c_fit,h_1920,w_1920/fl_attachment").toString("base64url")}`,
    ]);
    const head = await client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: `${prefix}blobs/k1` }));
    expect(head.ContentType).toBe("image/png");
    expect(head.ContentLength).toBe(8);
  });

  it("reports the streamed byte count and a version in epoch seconds", async () => {
    const store = storeFor();
    const before = Math.floor(Date.now() / 1000);
    const stored = right(await store.put(key("counted"), chunks(3, 1000), "image/gif")());
    expect(stored.bytes).toBe(3000);
    expect(stored.version).toBeGreaterThanOrEqual(before);
    expect(stored.version).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));

    const got = right(await store.get(key("counted"))());
    expect(got.bytes).toBe(3000);
    expect(got.contentType).toBe("image/gif");
    expect(await digest(got.body)).toEqual(await digest(chunks(3, 1000)));
  });

  it("uploads a 20 MB body in 8 MB parts while the body is still being produced", async () => {
    const c = target.client();
    const produced = { count: 0 };
    let producedAtFirstPart = -1;
    const commands = recordCommands(c, (name) => {
      if (name === "UploadPartCommand" && producedAtFirstPart < 0) producedAtFirstPart = produced.count;
    });
    const store = storeFor(freshPrefix(), c);

    const stored = right(await store.put(key("big"), chunks(20, MB, produced), "image/tiff")());

    expect(stored.bytes).toBe(20 * MB);
    expect(commands.filter((n) => n === "CreateMultipartUploadCommand")).toHaveLength(1);
    expect(commands.filter((n) => n === "UploadPartCommand")).toHaveLength(3); // 8 + 8 + 4 MB
    expect(commands.filter((n) => n === "CompleteMultipartUploadCommand")).toHaveLength(1);
    expect(commands).not.toContain("PutObjectCommand");
    // The first part left before the body was fully produced: read-ahead is bounded by the two
    // parts in flight (2 × 8 MB plus the 1 MB remainder and one chunk of stream buffer), not the body.
    expect(producedAtFirstPart).toBeGreaterThan(8);
    expect(producedAtFirstPart).toBeLessThanOrEqual(18);

    const got = right(await store.get(key("big"))());
    expect(got.bytes).toBe(20 * MB);
    expect(await digest(got.body)).toEqual(await digest(chunks(20, MB)));
  });

  it("leaves no object and aborts the multipart upload when the body fails after some parts", async () => {
    const c = target.client();
    const commands = recordCommands(c);
    const prefix = freshPrefix();
    const store = storeFor(prefix, c);

    const result = await store.put(key("broken"), chunks(20, MB, undefined, 18), "image/jpeg")();

    expect(result).toMatchObject(E.left({ _tag: "Unavailable" }));
    expect(commands).toContain("UploadPartCommand");
    expect(commands).not.toContain("CompleteMultipartUploadCommand");
    expect(commands).toContain("AbortMultipartUploadCommand");
    expect(await objectKeys(prefix)).toEqual([]);
    expect(right(await store.exists(key("broken"))())).toBe(false);
    if (target.server === "container") {
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: target.bucket, Prefix: prefix }));
      expect(uploads.Uploads ?? []).toEqual([]);
    }
  });

  it("sends nothing at all when the body fails before the first part is complete", async () => {
    const c = target.client();
    const commands = recordCommands(c);
    const prefix = freshPrefix();
    const store = storeFor(prefix, c);

    const result = await store.put(key("early"), chunks(5, MB, undefined, 2), "image/jpeg")();

    expect(result).toMatchObject(E.left({ _tag: "Unavailable" }));
    expect(commands).toEqual([]);
    expect(await objectKeys(prefix)).toEqual([]);
  });

  it("deletes a blob's renditions but not those of a key that merely starts the same", async () => {
    const prefix = freshPrefix();
    const store = storeFor(prefix);
    const bytes = new TextEncoder().encode("x");
    for (const k of ["abc", "abcd"]) {
      right(await store.put(key(k), streamOf(bytes), "image/png")());
      right(await store.putRendition(key(k), "a_90", bytes, "image/png")());
      right(await store.putRendition(key(k), "c_fill,h_100,w_100", bytes, "image/png")());
    }

    right(await store.delete(key("abc"))());

    expect(await objectKeys(prefix)).toEqual(
      [
        `${prefix}blobs/abcd`,
        `${prefix}renditions/abcd/${Buffer.from("a_90").toString("base64url")}`,
        `${prefix}renditions/abcd/${Buffer.from("c_fill,h_100,w_100").toString("base64url")}`,
      ].sort(),
    );
    expect(await store.getRendition(key("abc"), "a_90")()).toMatchObject(E.left({ _tag: "NotFound" }));
    expect(await text(right(await store.getRendition(key("abcd"), "a_90")()).body)).toBe("x");
    right(await store.delete(key("abc"))());
  });

  it("maps a missing object to NotFound and a missing bucket to Unavailable", async () => {
    const store = storeFor();
    expect(await store.get(key("nothing"))()).toMatchObject(E.left({ _tag: "NotFound" }));
    expect(await store.getRendition(key("nothing"), "a_90")()).toMatchObject(E.left({ _tag: "NotFound" }));
    expect(await store.exists(key("nothing"))()).toEqual(E.right(false));

    const noBucket = s3BlobStore({ client, bucket: "no-such-bucket-here" });
    expect(await noBucket.get(key("nothing"))()).toMatchObject(E.left({ _tag: "Unavailable" }));
    expect(await noBucket.put(key("k"), streamOf(new Uint8Array([1])), "image/png")()).toMatchObject(E.left({ _tag: "Unavailable" }));
  });

  it("maps refused credentials to Unavailable, never NotFound", async () => {
    const c = target.client({ credentials: { accessKeyId: "NOBODY", secretAccessKey: "wrong" }, maxAttempts: 1 });
    const store = storeFor(freshPrefix(), c);
    const got = await store.get(key("anything"))();
    expect(got).toMatchObject(E.left({ _tag: "Unavailable" }));
    expect(E.isLeft(got) && got.left.message).toMatch(/InvalidAccessKeyId|AccessDenied|SignatureDoesNotMatch|403/);
  });

  it("reports Unavailable quickly from every operation when the server is down", async () => {
    const port = await freeLoopbackPort();
    const c = target.client({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1, connectionTimeoutMs: 500, requestTimeoutMs: 1000 });
    const store = storeFor(freshPrefix(), c);
    const started = Date.now();
    const results = [
      await store.put(key("k"), streamOf(new Uint8Array([1, 2, 3])), "image/png")(),
      await store.get(key("k"))(),
      await store.exists(key("k"))(),
      await store.delete(key("k"))(),
      await store.getRendition(key("k"), "a_90")(),
      await store.putRendition(key("k"), "a_90", new Uint8Array([1]), "image/png")(),
    ];
    for (const r of results) expect(r).toMatchObject(E.left({ _tag: "Unavailable" }));
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("does not expose a half-written object to a concurrent reader", async () => {
    const prefix = freshPrefix();
    const store = storeFor(prefix);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    async function* slow(): ByteStream {
      yield chunkOf(0, 9 * MB); // more than a part: the multipart upload is under way
      await gate;
      yield chunkOf(1, MB);
    }
    const put = store.put(key("slow"), slow(), "image/png")();
    await new Promise((r) => setTimeout(r, 300));
    expect(await store.exists(key("slow"))()).toEqual(E.right(false));
    await expect(client.send(new GetObjectCommand({ Bucket: target.bucket, Key: `${prefix}blobs/slow` }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    release();
    expect(right(await put).bytes).toBe(10 * MB);
    expect(await store.exists(key("slow"))()).toEqual(E.right(true));
  });
});
