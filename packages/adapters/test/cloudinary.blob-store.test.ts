import type { BlobKey, BlobStore } from "@image-api/core";
import { renditionOf } from "@image-api/core";
import { blobStoreContract, chunkedBody, collectBytes, freshBlobKey, solidPng, startFakeCloudinary, type FakeCloudinary } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test as base } from "vitest";
import { cloudinaryBlobStore, cloudinaryUrlSigner } from "../src/cloudinary/index.js";

const ACCOUNT = { cloudName: "image-api-test", apiKey: "614335564976464", apiSecret: "a676b67565c6767a6767d6767f676fe1" };

const test = base.extend<{ fake: FakeCloudinary; store: BlobStore }>({
  // eslint-disable-next-line no-empty-pattern
  fake: async ({}, use) => {
    const fake = await startFakeCloudinary(ACCOUNT);
    await use(fake);
    await fake.close();
  },
  store: async ({ fake }, use) => use(cloudinaryBlobStore({ ...ACCOUNT, uploadPrefix: fake.uploadPrefix, deliveryBaseUrl: fake.deliveryBaseUrl })),
});

const ok = <A>(r: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};
const leftOf = <A>(r: E.Either<{ _tag: string; message: string }, A>) => {
  if (E.isRight(r)) throw new Error("expected a failure");
  return r.left;
};

describe("cloudinaryBlobStore against a Cloudinary stand-in", () => {
  // Cloudinary renders the transformations itself: nothing is cached beside the original.
  blobStoreContract(test, { cachesRenditions: false });

  test("an image is uploaded as an authenticated image asset under its key, with Cloudinary's version", async ({ fake, store }) => {
    const key = freshBlobKey();
    const png = await solidPng(48, 48);
    const stored = ok(await store.put(key, chunkedBody(png, 100), "image/png")());
    expect(fake.assets()).toEqual([
      expect.objectContaining({ publicId: key, resourceType: "image", type: "authenticated", format: "png", width: 48, height: 48, bytes: png.byteLength }),
    ]);
    expect(stored).toEqual({ bytes: png.byteLength, version: fake.assets()[0]!.version });
    const got = ok(await store.get(key)());
    expect(got.contentType).toBe("image/png");
    expect(got.bytes).toBe(png.byteLength);
    expect(Buffer.from(await collectBytes(got.body)).equals(Buffer.from(png))).toBe(true);
  });

  test("the signer's delivery URLs for a stored image are accepted by the delivery host", async ({ fake, store }) => {
    const key = freshBlobKey();
    const png = await solidPng(20, 10);
    const { version } = ok(await store.put(key, chunkedBody(png), "image/png")());
    const signer = cloudinaryUrlSigner(ACCOUNT);
    const url = await signer.sign(
      { blobKey: key, format: "png", version, rendition: renditionOf({ rotation: 90, crop: { x: 1, y: 1, w: 5, h: 5 } }, "large"), filename: key },
      new Date(),
    )();
    const local = url.replace("https://res.cloudinary.com", fake.deliveryBaseUrl);
    const res = await fetch(local);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(png))).toBe(true);
    const forged = await fetch(local.replace("a_90", "a_180"));
    expect(forged.status).toBe(401);
    await forged.body?.cancel();
  });

  test("bytes that are not an image are kept as a raw asset that remembers its media type", async ({ fake, store }) => {
    const key = freshBlobKey();
    const text = new TextEncoder().encode("not an image at all");
    ok(await store.put(key, chunkedBody(text), "image/png")());
    expect(fake.assets().map((a) => [a.publicId, a.resourceType])).toEqual([[key, "raw"]]);
    const got = ok(await store.get(key)());
    expect([got.contentType, got.bytes, new TextDecoder().decode(await collectBytes(got.body))]).toEqual(["image/png", text.byteLength, "not an image at all"]);
  });

  test("replacing an image with raw bytes (or back) reads the newest, and delete leaves no asset of either kind", async ({ fake, store }) => {
    const key = freshBlobKey();
    ok(await store.put(key, chunkedBody(await solidPng(4, 4)), "image/png")());
    ok(await store.put(key, chunkedBody(new Uint8Array([1, 2, 3])), "application/octet-stream")());
    expect(fake.assets().map((a) => a.resourceType)).toEqual(["raw"]);
    expect(ok(await store.get(key)()).bytes).toBe(3);
    const png = await solidPng(6, 6);
    ok(await store.put(key, chunkedBody(png), "image/png")());
    // Reads look for the image first, so the raw one left behind is never seen.
    expect(ok(await store.get(key)()).bytes).toBe(png.byteLength);
    ok(await store.delete(key)());
    expect(fake.assets()).toEqual([]);
  });

  test("an upload is one Upload API call, a delete two destroys, and nothing goes through the rate-limited Admin API", async ({ fake, store }) => {
    const key = freshBlobKey();
    ok(await store.put(key, chunkedBody(await solidPng(8, 8)), "image/png")());
    expect(fake.apiCalls()).toEqual(["upload image"]);
    ok(await store.putRendition(key, "c_fit,h_1920,w_1920/a_90", await solidPng(2, 2), "image/png")());
    expect(fake.apiCalls()).toEqual(["upload image"]);
    ok(await store.delete(key)());
    expect(fake.apiCalls()).toEqual(["upload image", "destroy image", "destroy raw"]);
    expect(fake.apiCalls().filter((c) => c.startsWith("admin"))).toEqual([]);
    expect(fake.assets()).toEqual([]);
  });

  test("an account set to SHA-256 reads its assets back through SHA-256 delivery signatures", async () => {
    const fake = await startFakeCloudinary({ ...ACCOUNT, signatureAlgorithm: "sha256" });
    try {
      const common = { ...ACCOUNT, uploadPrefix: fake.uploadPrefix, deliveryBaseUrl: fake.deliveryBaseUrl };
      const key = freshBlobKey();
      const png = await solidPng(5, 5);
      ok(await cloudinaryBlobStore({ ...common, signatureAlgorithm: "sha256" }).put(key, chunkedBody(png), "image/png")());
      expect(ok(await cloudinaryBlobStore({ ...common, signatureAlgorithm: "sha256" }).get(key)()).bytes).toBe(png.byteLength);
      // The same store signing with SHA-1 is refused by such an account.
      expect(leftOf(await cloudinaryBlobStore(common).get(key)())._tag).toBe("Unavailable");
    } finally {
      await fake.close();
    }
  });

  test("tags given to the store go on every original", async ({ fake }) => {
    const store = cloudinaryBlobStore({ ...ACCOUNT, uploadPrefix: fake.uploadPrefix, deliveryBaseUrl: fake.deliveryBaseUrl, tags: ["image-api", "test"] });
    ok(await store.put(freshBlobKey(), chunkedBody(await solidPng(3, 3)), "image/png")());
    expect(fake.assets()[0]!.tags).toEqual(["image-api", "test"]);
  });

  test("a client with the wrong API secret is refused: Unavailable, and nothing is stored", async ({ fake, store }) => {
    const key = freshBlobKey();
    ok(await store.put(key, chunkedBody(await solidPng(4, 4)), "image/png")());
    const impostor = cloudinaryBlobStore({ ...ACCOUNT, apiSecret: "not-the-secret", uploadPrefix: fake.uploadPrefix, deliveryBaseUrl: fake.deliveryBaseUrl });
    const put = leftOf(await impostor.put(freshBlobKey(), chunkedBody(await solidPng(4, 4)), "image/png")());
    expect(put._tag).toBe("Unavailable");
    expect(put.message).toMatch(/HTTP 401: Invalid Signature/);
    expect(put.message).not.toContain("not-the-secret");
    // Reads are signed URLs: a wrong signature is refused, which must not pass for a missing blob.
    expect(leftOf(await impostor.get(key)())._tag).toBe("Unavailable");
    expect(leftOf(await impostor.exists(key)())._tag).toBe("Unavailable");
    expect(leftOf(await impostor.delete(key)())._tag).toBe("Unavailable");
    expect(fake.assets().map((a) => a.publicId)).toEqual([key]);
  });

  test("an unreachable Cloudinary is Unavailable, never a throw", async ({ fake }) => {
    const origin = fake.uploadPrefix;
    await fake.close();
    const store = cloudinaryBlobStore({ ...ACCOUNT, uploadPrefix: origin, deliveryBaseUrl: origin, timeoutMs: 2000 });
    const key = "no-such-blob" as BlobKey;
    expect(leftOf(await store.put(key, chunkedBody(new Uint8Array([1])), "image/png")())._tag).toBe("Unavailable");
    expect(leftOf(await store.get(key)())._tag).toBe("Unavailable");
    expect(leftOf(await store.exists(key)())._tag).toBe("Unavailable");
    expect(leftOf(await store.delete(key)())._tag).toBe("Unavailable");
  });
});
