import type { BlobKey, BlobStore } from "@image-api/core";
import { blobStoreContract, chunkedBody, collectBytes, freshBlobKey } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test as base } from "vitest";
import { memoryBlobStore } from "../src/memory/index.js";

const test = base.extend<{ store: BlobStore }>({
  // eslint-disable-next-line no-empty-pattern
  store: async ({}, use) => use(memoryBlobStore()),
});

describe("memoryBlobStore", () => {
  blobStoreContract(test);

  test("refuses keys that are not blob keys", async ({ store }) => {
    for (const key of ["../escape", "a/b", "", ".hidden"]) {
      const r = await store.put(key as BlobKey, chunkedBody(new Uint8Array(3)), "image/png")();
      expect(E.isLeft(r) && r.left._tag).toBe("Unavailable");
      expect(E.isLeft(await store.putRendition(key as BlobKey, "raw", new Uint8Array(3), "image/png")())).toBe(true);
    }
  });

  test("keeps its own copy of the bytes", async ({ store }) => {
    const key = freshBlobKey();
    const chunk = new Uint8Array([1, 2, 3]);
    await store.put(key, chunkedBody(chunk), "image/png")();
    const rendition = new Uint8Array([4, 5]);
    await store.putRendition(key, "raw", rendition, "image/png")();
    chunk.fill(9);
    rendition.fill(9);
    const got = await store.get(key)();
    if (E.isLeft(got)) throw new Error(got.left.message);
    const bytes = await collectBytes(got.right.body);
    expect([...bytes]).toEqual([1, 2, 3]);
    bytes.fill(7);
    const again = await store.get(key)();
    if (E.isLeft(again)) throw new Error(again.left.message);
    expect([...(await collectBytes(again.right.body))]).toEqual([1, 2, 3]);
    const r = await store.getRendition(key, "raw")();
    if (E.isLeft(r)) throw new Error(r.left.message);
    expect([...(await collectBytes(r.right.body))]).toEqual([4, 5]);
  });

  test("concurrent puts and reads of many keys stay separate", async ({ store }) => {
    const keys = Array.from({ length: 20 }, () => freshBlobKey());
    await Promise.all(keys.map((k, i) => store.put(k, chunkedBody(new Uint8Array(1000).fill(i), 100, 1), `image/x-${i}`)()));
    const got = await Promise.all(keys.map((k) => store.get(k)()));
    for (const [i, r] of got.entries()) {
      if (E.isLeft(r)) throw new Error(r.left.message);
      expect(r.right.contentType).toBe(`image/x-${i}`);
      expect((await collectBytes(r.right.body)).every((b) => b === i)).toBe(true);
    }
  });

  test("stamps versions from the given clock", async () => {
    const store = memoryBlobStore({ clock: { now: () => new Date("2019-04-08T17:38:52Z") } });
    const r = await store.put(freshBlobKey(), chunkedBody(new Uint8Array(1)), "image/png")();
    expect(r).toEqual(E.right({ bytes: 1, version: 1554745132 }));
  });
});
