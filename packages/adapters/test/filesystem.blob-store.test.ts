import { watch } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { BlobKey, BlobStore } from "@image-api/core";
import { blobStoreContract, chunkedBody, collectBytes, failingAfter, freshBlobKey } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test as base } from "vitest";
import { filesystemBlobStore, renditionFileName, type FilesystemBlobStore } from "../src/filesystem/index.js";

const test = base.extend<{ root: string; store: FilesystemBlobStore }>({
  // eslint-disable-next-line no-empty-pattern
  root: async ({}, use) => {
    const dir = await mkdtemp(join(tmpdir(), "blob-store-"));
    await use(join(dir, "store"));
    await rm(dir, { recursive: true, force: true });
  },
  store: async ({ root }, use) => use(filesystemBlobStore({ root })),
});

const filesUnder = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
};

const ok = <A>(r: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

describe("filesystemBlobStore", () => {
  blobStoreContract(test);

  test("lays blobs out under a two-character shard and renditions under the key", async ({ root, store }) => {
    const key = "ab12cd-key" as BlobKey;
    ok(await store.put(key, chunkedBody(new Uint8Array([1, 2, 3])), "image/png")());
    ok(await store.putRendition(key, "c_crop,h_1,w_1,x_0,y_0/a_90", new Uint8Array([4]), "image/png")());
    expect((await filesUnder(root)).sort()).toEqual([join("blobs", "ab", key), join("renditions", key, renditionFileName("c_crop,h_1,w_1,x_0,y_0/a_90"))].sort());
  });

  test("a rendition finished after its blob was deleted is not kept, so no thumbnail outlives the image", async ({ root, store }) => {
    const key = freshBlobKey();
    ok(await store.put(key, chunkedBody(new Uint8Array([1, 2, 3])), "image/png")());
    ok(await store.delete(key)());
    // A render that read the bytes before the delete, writing its result after it.
    ok(await store.putRendition(key, "w_100", new Uint8Array([4]), "image/png")());
    expect(E.isLeft(await store.getRendition(key, "w_100")())).toBe(true);
    expect(await filesUnder(root)).toEqual([]);
    expect(await readdir(join(root, "renditions"))).toEqual([]);
  });

  test("a rendition finished after its blob's delete never makes the blob's directory again, so a crash then leaves nothing", async ({ root, store }) => {
    const key = freshBlobKey();
    ok(await store.put(key, chunkedBody(new Uint8Array([1, 2, 3])), "image/png")());
    ok(await store.putRendition(key, "w_10", new Uint8Array([4]), "image/png")());
    ok(await store.delete(key)());
    // Every entry made or removed in renditions/ shows up here (inotify on Linux).
    const seen: string[] = [];
    const watcher = watch(join(root, "renditions"), (_event, name) => name && seen.push(name));
    try {
      for (let i = 0; i < 5; i++) ok(await store.putRendition(key, `w_${i}`, new Uint8Array(20_000).fill(i), "image/png")());
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      watcher.close();
    }
    expect(seen).toEqual([]);
    expect(await readdir(join(root, "renditions"))).toEqual([]);
  });

  test("a blob stored before blobs had a rendition directory still gets its renditions", async ({ root, store }) => {
    const key = freshBlobKey();
    ok(await store.put(key, chunkedBody(new Uint8Array([1, 2, 3])), "image/png")());
    await rm(join(root, "renditions", key), { recursive: true, force: true });
    ok(await store.putRendition(key, "w_10", new Uint8Array([4]), "image/png")());
    expect(await collectBytes(ok(await store.getRendition(key, "w_10")()).body)).toEqual(Buffer.from([4]));
  });

  test("a delete racing rendition writes leaves neither bytes nor renditions, and reports success only then", async ({ root, store }) => {
    for (let round = 0; round < 10; round++) {
      const key = freshBlobKey();
      ok(await store.put(key, chunkedBody(new Uint8Array(10_000)), "image/png")());
      const renders = Array.from({ length: 12 }, (_, i) => store.putRendition(key, `w_${i}`, new Uint8Array(50_000).fill(i), "image/png")());
      const deleted = await store.delete(key)();
      await Promise.all(renders);
      expect(deleted).toEqual(E.right(undefined));
      expect(await filesUnder(root)).toEqual([]);
    }
  });

  test("temp files a crash left in the staging dir are removed once stale, fresh ones are not", async ({ root, store }) => {
    await mkdir(join(root, ".tmp"), { recursive: true });
    const old = join(root, ".tmp", ".tmp-crashed");
    const fresh = join(root, ".tmp", ".tmp-in-flight");
    await writeFile(old, "partial upload");
    await writeFile(fresh, "upload in progress");
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(old, twoHoursAgo, twoHoursAgo);
    expect(await store.removeStaleTemporaryFiles(new Date(Date.now() - 3600_000))).toBe(1);
    expect(await readdir(join(root, ".tmp"))).toEqual([".tmp-in-flight"]);
    // Writes stage there, never beside the blobs, so the sweep needs one directory read.
    const key = freshBlobKey();
    ok(await store.put(key, chunkedBody(new Uint8Array([1])), "image/png")());
    expect(await readdir(join(root, "blobs", key.slice(0, 2)))).toEqual([key]);
  });

  test("rendition names become single safe file names", () => {
    for (const name of ["raw", "c_crop,h_1,w_1,x_0,y_0/a_90/fl_attachment", "../../etc/passwd", "a".repeat(1000)]) {
      const file = renditionFileName(name);
      expect(file).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(file.length).toBeLessThanOrEqual(202);
    }
    expect(renditionFileName("a/b")).not.toBe(renditionFileName("a,b"));
  });

  test("no temp file is left behind when the body fails", async ({ root, store }) => {
    const key = freshBlobKey();
    const r = await store.put(key, failingAfter(new Uint8Array(3 * 1024 * 1024)), "image/png")();
    expect(E.isLeft(r)).toBe(true);
    expect(await filesUnder(root)).toEqual([]);
  });

  test("no temp file is left behind after concurrent writes to one key", async ({ root, store }) => {
    const key = freshBlobKey();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.put(key, chunkedBody(new Uint8Array(200_000).fill(i), 16_384, 1), `image/x-${i}`)()),
    );
    expect(results.every(E.isRight)).toBe(true);
    expect(await filesUnder(root)).toEqual([join("blobs", key.slice(0, 2), key)]);
    const got = ok(await store.get(key)());
    const fill = Number(got.contentType.slice("image/x-".length));
    expect((await collectBytes(got.body)).every((b) => b === fill)).toBe(true);
  });

  test("concurrent puts and reads of many keys stay separate", async ({ store }) => {
    const keys = Array.from({ length: 30 }, () => freshBlobKey());
    await Promise.all(keys.map((k, i) => store.put(k, chunkedBody(new Uint8Array(50_000).fill(i), 4096), `image/x-${i}`)()));
    const got = await Promise.all(keys.map((k) => store.get(k)()));
    for (const [i, r] of got.entries()) {
      const c = ok(r);
      expect(c.contentType).toBe(`image/x-${i}`);
      const bytes = await collectBytes(c.body);
      expect(bytes.byteLength).toBe(50_000);
      expect(bytes.every((b) => b === i)).toBe(true);
    }
  });

  test("a reader that already opened a blob keeps reading it while it is deleted", async ({ store }) => {
    const key = freshBlobKey();
    const bytes = new Uint8Array(300_000).fill(5);
    ok(await store.put(key, chunkedBody(bytes), "image/png")());
    const open = ok(await store.get(key)());
    ok(await store.delete(key)());
    expect((await collectBytes(open.body)).byteLength).toBe(300_000);
  });

  test("refuses path-traversal keys and writes nothing outside the root", async ({ root, store }) => {
    const outside = join(root, "..");
    const before = await filesUnder(outside);
    for (const key of ["../escape", "../../escape", "a/../../b", "..", ".", ".hidden", "a\\b", "", "x".repeat(200)]) {
      const put = await store.put(key as BlobKey, chunkedBody(new Uint8Array([1])), "image/png")();
      expect(E.isLeft(put) && put.left._tag, key).toBe("Unavailable");
      expect(E.isLeft(await store.putRendition(key as BlobKey, "raw", new Uint8Array([1]), "image/png")()), key).toBe(true);
      const get = await store.get(key as BlobKey)();
      expect(E.isLeft(get) && get.left._tag, key).toBe("NotFound");
      expect(E.isLeft(await store.delete(key as BlobKey)()), key).toBe(true);
    }
    expect(await filesUnder(outside)).toEqual(before);
  });

  test("a root that is not a directory is Unavailable, not NotFound", async ({ root }) => {
    await mkdir(join(root, ".."), { recursive: true });
    // A file where the root directory should be: every path under it fails with ENOTDIR.
    await writeFile(root, "not a directory");
    const store = filesystemBlobStore({ root });
    const put = await store.put(freshBlobKey(), chunkedBody(new Uint8Array([1])), "image/png")();
    expect(E.isLeft(put) && put.left._tag).toBe("Unavailable");
    const get = await store.get(freshBlobKey())();
    expect(E.isLeft(get) && get.left._tag).toBe("Unavailable");
    const exists = await store.exists(freshBlobKey())();
    expect(E.isLeft(exists) && exists.left._tag).toBe("Unavailable");
    expect((await stat(root)).isFile()).toBe(true);
    expect(await readFile(root, "utf8")).toBe("not a directory");
  });
});
