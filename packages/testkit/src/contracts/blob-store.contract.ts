import { randomBytes, randomUUID } from "node:crypto";
import { collect, type BlobKey, type BlobStore, type ByteStream } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, type TestAPI } from "vitest";

export const freshBlobKey = (): BlobKey => randomUUID() as BlobKey;

/** The whole body, as a Buffer so tests can compare with `equals`. */
export const collectBytes = async (body: ByteStream): Promise<Buffer> => {
  const bytes = await collect(body);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
};

export async function* chunkedBody(bytes: Uint8Array, size = 64 * 1024, pauseMs = 0): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) {
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    yield bytes.slice(at, at + size);
  }
}

/** Yields `before` bytes, then fails the way a dropped upload connection does. */
export async function* failingAfter(before: Uint8Array): AsyncGenerator<Uint8Array> {
  yield* chunkedBody(before);
  throw new Error("connection reset by peer");
}

const right = <A>(r: E.Either<unknown, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected success, got ${JSON.stringify(r.left)}`);
  return r.right;
};
const leftTag = (r: E.Either<{ _tag: string }, unknown>): string => (E.isLeft(r) ? r.left._tag : "Right");

const RENDITION = "c_crop,h_30,w_40,x_4,y_6/a_90/c_fit,h_1920,w_1920/c_fill,h_200,w_200/fl_attachment";

export interface BlobStoreContractOptions {
  /**
   * False for a store whose backend renders renditions itself (Cloudinary): putRendition then keeps
   * nothing and getRendition always answers NotFound, so the delivery path renders every time.
   */
  readonly cachesRenditions?: boolean;
}

/** What every BlobStore must do; run it against a fresh, empty store per test. */
export const blobStoreContract = <S extends BlobStore>(test: TestAPI<{ store: S }>, { cachesRenditions = true }: BlobStoreContractOptions = {}): void => {
  describe("BlobStore contract", () => {
    test("put then get returns the same bytes, size and content type", async ({ store }) => {
      const key = freshBlobKey();
      const bytes = randomBytes(3604);
      const stored = right(await store.put(key, chunkedBody(bytes, 1000), "image/png")());
      expect(stored.bytes).toBe(3604);
      expect(Number.isFinite(stored.version)).toBe(true);
      const got = right(await store.get(key)());
      expect(got.bytes).toBe(3604);
      expect(got.contentType).toBe("image/png");
      expect((await collectBytes(got.body)).equals(bytes)).toBe(true);
    });

    test("streams a 5 MB body given in many chunks", async ({ store }) => {
      const key = freshBlobKey();
      const bytes = randomBytes(5 * 1024 * 1024 + 17);
      expect(right(await store.put(key, chunkedBody(bytes, 64 * 1024), "image/jpeg")()).bytes).toBe(bytes.byteLength);
      const got = right(await store.get(key)());
      expect(got.bytes).toBe(bytes.byteLength);
      expect((await collectBytes(got.body)).equals(bytes)).toBe(true);
    });

    test("an empty body round-trips", async ({ store }) => {
      const key = freshBlobKey();
      expect(right(await store.put(key, chunkedBody(new Uint8Array(0)), "application/octet-stream")()).bytes).toBe(0);
      const got = right(await store.get(key)());
      expect(got.bytes).toBe(0);
      expect((await collectBytes(got.body)).byteLength).toBe(0);
    });

    test("get of an unknown key is NotFound", async ({ store }) => {
      expect(leftTag(await store.get(freshBlobKey())())).toBe("NotFound");
    });

    test("exists tells stored keys from unknown ones", async ({ store }) => {
      const key = freshBlobKey();
      expect(right(await store.exists(key)())).toBe(false);
      right(await store.put(key, chunkedBody(randomBytes(10)), "image/png")());
      expect(right(await store.exists(key)())).toBe(true);
      expect(right(await store.exists(freshBlobKey())())).toBe(false);
    });

    test("delete removes the blob and is idempotent", async ({ store }) => {
      const key = freshBlobKey();
      right(await store.put(key, chunkedBody(randomBytes(10)), "image/png")());
      right(await store.delete(key)());
      expect(right(await store.exists(key)())).toBe(false);
      expect(leftTag(await store.get(key)())).toBe("NotFound");
      right(await store.delete(key)());
      right(await store.delete(freshBlobKey())());
    });

    test("delete leaves other blobs alone", async ({ store }) => {
      const [a, b] = [freshBlobKey(), freshBlobKey()];
      const bBytes = randomBytes(100);
      right(await store.put(a, chunkedBody(randomBytes(100)), "image/png")());
      right(await store.put(b, chunkedBody(bBytes), "image/png")());
      right(await store.putRendition(b, "raw", bBytes, "image/png")());
      right(await store.delete(a)());
      expect((await collectBytes(right(await store.get(b)()).body)).equals(bBytes)).toBe(true);
      if (cachesRenditions) expect(right(await store.getRendition(b, "raw")()).bytes).toBe(100);
    });

    if (!cachesRenditions) {
      test("putRendition succeeds and keeps nothing", async ({ store }) => {
        const key = freshBlobKey();
        right(await store.put(key, chunkedBody(randomBytes(50)), "image/png")());
        right(await store.putRendition(key, RENDITION, randomBytes(77), "image/webp")());
        expect(leftTag(await store.getRendition(key, RENDITION)())).toBe("NotFound");
      });
    }

    if (cachesRenditions) test("putRendition then getRendition round-trips under names holding '/' and ','", async ({ store }) => {
      const key = freshBlobKey();
      right(await store.put(key, chunkedBody(randomBytes(50)), "image/png")());
      const first = randomBytes(777);
      const second = randomBytes(333);
      right(await store.putRendition(key, RENDITION, first, "image/webp")());
      right(await store.putRendition(key, "c_fit,w_300", second, "image/png")());
      const got = right(await store.getRendition(key, RENDITION)());
      expect(got.bytes).toBe(777);
      expect(got.contentType).toBe("image/webp");
      expect((await collectBytes(got.body)).equals(first)).toBe(true);
      expect((await collectBytes(right(await store.getRendition(key, "c_fit,w_300")()).body)).equals(second)).toBe(true);
    });

    if (cachesRenditions)
      test("a rendition finished after its blob was deleted is not kept, so no thumbnail outlives its image", async ({ store }) => {
        const key = freshBlobKey();
        right(await store.put(key, chunkedBody(randomBytes(10)), "image/png")());
        right(await store.delete(key)());
        // A render that read the bytes before the delete, writing its result after it.
        right(await store.putRendition(key, RENDITION, randomBytes(10), "image/png")());
        expect(leftTag(await store.getRendition(key, RENDITION)())).toBe("NotFound");
      });

    if (cachesRenditions) test("putRendition replaces an earlier rendition of the same name", async ({ store }) => {
      const key = freshBlobKey();
      // Renditions are of a stored blob (a store may drop one whose blob is gone).
      right(await store.put(key, chunkedBody(randomBytes(10)), "image/png")());
      right(await store.putRendition(key, RENDITION, randomBytes(10), "image/png")());
      const next = randomBytes(20);
      right(await store.putRendition(key, RENDITION, next, "image/jpeg")());
      const got = right(await store.getRendition(key, RENDITION)());
      expect(got.contentType).toBe("image/jpeg");
      expect((await collectBytes(got.body)).equals(next)).toBe(true);
    });

    test("getRendition of an unknown key or name is NotFound", async ({ store }) => {
      const key = freshBlobKey();
      expect(leftTag(await store.getRendition(key, RENDITION)())).toBe("NotFound");
      right(await store.put(key, chunkedBody(randomBytes(10)), "image/png")());
      right(await store.putRendition(key, "raw", randomBytes(10), "image/png")());
      expect(leftTag(await store.getRendition(key, RENDITION)())).toBe("NotFound");
      expect(leftTag(await store.getRendition(freshBlobKey(), "raw")())).toBe("NotFound");
    });

    test("delete removes the blob's renditions", async ({ store }) => {
      const key = freshBlobKey();
      right(await store.put(key, chunkedBody(randomBytes(10)), "image/png")());
      right(await store.putRendition(key, RENDITION, randomBytes(10), "image/png")());
      right(await store.putRendition(key, "raw", randomBytes(10), "image/png")());
      right(await store.delete(key)());
      expect(leftTag(await store.getRendition(key, RENDITION)())).toBe("NotFound");
      expect(leftTag(await store.getRendition(key, "raw")())).toBe("NotFound");
    });

    test("a body that fails midway leaves nothing under the key", async ({ store }) => {
      const key = freshBlobKey();
      const r = await store.put(key, failingAfter(randomBytes(1024 * 1024)), "image/png")();
      expect(leftTag(r)).toBe("Unavailable");
      expect(leftTag(await store.get(key)())).toBe("NotFound");
      expect(right(await store.exists(key)())).toBe(false);
    });

    test("a failed overwrite keeps the previous bytes", async ({ store }) => {
      const key = freshBlobKey();
      const before = randomBytes(2048);
      right(await store.put(key, chunkedBody(before), "image/png")());
      expect(leftTag(await store.put(key, failingAfter(randomBytes(1024 * 1024)), "image/jpeg")())).toBe("Unavailable");
      const got = right(await store.get(key)());
      expect(got.contentType).toBe("image/png");
      expect((await collectBytes(got.body)).equals(before)).toBe(true);
    });

    test("readers of a key being overwritten see the old or the new blob, never a mix", async ({ store }) => {
      const key = freshBlobKey();
      const size = 1024 * 1024;
      const oldBytes = Buffer.alloc(size, 0xaa);
      const newBytes = Buffer.alloc(size, 0xbb);
      right(await store.put(key, chunkedBody(oldBytes), "application/x-old")());
      let done = false;
      const writer = store.put(key, chunkedBody(newBytes, 64 * 1024, 2), "application/x-new")().finally(() => {
        done = true;
      });
      const seen = new Set<string>();
      while (!done) {
        const got = right(await store.get(key)());
        const bytes = await collectBytes(got.body);
        expect(bytes.byteLength).toBe(size);
        expect(got.bytes).toBe(size);
        const fill = got.contentType === "application/x-old" ? 0xaa : 0xbb;
        expect(bytes.every((b) => b === fill)).toBe(true);
        seen.add(got.contentType);
        // Let timers run: an in-memory store answers without ever leaving the microtask queue.
        await new Promise((r) => setImmediate(r));
      }
      right(await writer);
      const last = right(await store.get(key)());
      expect(last.contentType).toBe("application/x-new");
      expect((await collectBytes(last.body)).equals(newBytes)).toBe(true);
      expect(seen.has("application/x-old")).toBe(true);
    });
  });
};
