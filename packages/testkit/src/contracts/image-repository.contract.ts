import {
  DEFAULT_TENANT,
  duplicateOf,
  parseQuery,
  type SearchQuery,
  type AlbumId,
  type BlobKey,
  type Image,
  type ImageId,
  type AlbumScope,
  type ImageRepository,
  type ListingPosition,
  type TenantId,
  type JsonObject,
} from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import type { TaskEither } from "fp-ts/lib/TaskEither.js";
import { describe, expect, type TestAPI } from "vitest";
import { anImage, testUuid } from "../fixtures/image.fixture.js";

type Tagged = { readonly _tag: string; readonly message: string };

const right = async <A>(te: TaskEither<Tagged, A>): Promise<A> => {
  const result = await te();
  if (E.isLeft(result)) throw new Error(`expected success, got ${result.left._tag}: ${result.left.message}`);
  return result.right;
};

const failure = async (te: TaskEither<Tagged, unknown>): Promise<string> => {
  const result = await te();
  if (E.isRight(result)) throw new Error("expected a failure, got success");
  return result.left._tag;
};

/** The tenant most cases work in. */
const T = DEFAULT_TENANT;

const newId = () => testUuid() as ImageId;
const at = (iso: string) => new Date(iso);

/** Roughly 100 KB of nested, mixed-type JSON with non-ASCII text. */
const largeMetadatas = (): JsonObject => ({
  source: "import ✓",
  entries: Array.from({ length: 1100 }, (_, i) => ({
    i,
    label: `étiquette ${i} — 写真 📷`,
    ratio: i / 7,
    even: i % 2 === 0,
    none: null,
  })),
});

/** Every field set, most of them to values a storage layer likes to mangle. */
const richImage = (): Image =>
  anImage({
    groupId: newId(),
    blob: {
      key: testUuid() as BlobKey,
      format: "jpg",
      contentType: "image/jpeg",
      bytes: 5_000_000_123,
      etag: "0f343b0931126a20f133d67c2b018a3b",
      version: 1_554_745_132,
    },
    originalWidth: 4032,
    originalHeight: 3024,
    filename: "Fête d'été 🎉 \"quoted\" \\ back",
    exifs: {
      Make: "Canon",
      GPSLatitude: [48, 51, 42.96],
      nested: { deep: { list: [1, "x", null, true, -2.5e-7] } },
      ключ: "значение",
    },
    metadatas: largeMetadatas(),
    gpsHtml: [48.861934399999996, 2.348967],
    gpsIp: [-33.86882, 151.20929],
    gpsExifs: [0.30000000000000004, -179.99999999999997],
    takenAt: at("2018-07-14T12:34:56.789Z"),
    title: "Été à Paris — 東京 🌸 مرحبا e\u0301",
    description: `Ligne 1\nLigne 2\t«tab»\n${"long ".repeat(1900)}fin 🏁`,
    rotation: 270,
    crop: { x: 1.5, y: 2.25, w: 40.125, h: 33.333333333333336 },
    color: "#0A0B0C",
    processed: true,
    processingError: "timeout while rendering ⚠",
    createdAt: at("2024-02-29T23:59:59.999Z"),
    updatedAt: at("2024-03-01T00:00:00.001Z"),
    version: 7,
  });

/** An image and `n` duplicates of it, all stored. */
const family = async (repo: ImageRepository, n: number): Promise<{ source: Image; copies: Image[] }> => {
  const source = anImage();
  await right(repo.insert(source));
  const copies: Image[] = [];
  for (let i = 0; i < n; i++) {
    const copy = duplicateOf(source, newId(), at(`2026-01-01T00:00:0${i % 10}.000Z`), null);
    await right(repo.insertCopy(source.id, copy));
    copies.push(copy);
  }
  return { source, copies };
};

const permutations = <T>(xs: readonly T[]): T[][] =>
  xs.length <= 1 ? [[...xs]] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));

/**
 * What every ImageRepository must do. `test` must provide a fresh, empty repository per test.
 */
export function imageRepositoryContract(test: TestAPI<{ repo: ImageRepository }>): void {
  describe("storing and reading", () => {
    test("round-trips every field of a fully populated image", async ({ repo }) => {
      const image = richImage();
      expect(JSON.stringify(image.metadatas).length).toBeGreaterThan(100_000);
      await right(repo.insert(image));
      const found = await right(repo.findById(T, image.id));
      expect(found).toStrictEqual(image);
      expect(found.createdAt).toBeInstanceOf(Date);
      expect(found.takenAt?.toISOString()).toBe("2018-07-14T12:34:56.789Z");
      expect(found.gpsHtml?.[0]).toBe(48.861934399999996);
    });

    test("round-trips an image whose optional fields are all null or empty", async ({ repo }) => {
      const image = anImage({ infos: {}, gpsHtml: null, gpsIp: null, gpsExifs: null, title: null, description: null });
      await right(repo.insert(image));
      expect(await right(repo.findById(T, image.id))).toStrictEqual(image);
    });

    test("keeps the key order of the JSON fields, which clients see as stored", async ({ repo }) => {
      const image = anImage({ exifs: { zeta: 1, alpha: 2, mid: { b: 1, a: 2 } } });
      await right(repo.insert(image));
      const found = await right(repo.findById(T, image.id));
      expect(Object.keys(found.infos)).toEqual(Object.keys(image.infos));
      expect(JSON.stringify(found.exifs)).toBe(JSON.stringify(image.exifs));
    });

    test("what a caller does to the objects it passed or got back does not change the stored image", async ({ repo }) => {
      const image = anImage();
      const snapshot = structuredClone(image);
      await right(repo.insert(image));
      (image.infos as { [k: string]: unknown })["width"] = 2;
      const first = await right(repo.findById(T, image.id));
      (first.infos as { [k: string]: unknown })["height"] = 1;
      expect(await right(repo.findById(T, image.id))).toStrictEqual(snapshot);
    });

    test("findById of an unknown id is NotFound", async ({ repo }) => {
      expect(await failure(repo.findById(T, newId()))).toBe("NotFound");
    });

    test("a new image's blob starts with one reference; unknown blobs have none", async ({ repo }) => {
      const image = anImage();
      await right(repo.insert(image));
      expect(await right(repo.blobReferences(image.blob.key))).toBe(1);
      expect(await right(repo.blobReferences(testUuid() as BlobKey))).toBe(0);
    });

    test("inserting an existing id is a Conflict and writes nothing", async ({ repo }) => {
      const image = anImage();
      await right(repo.insert(image));
      const clash = anImage({ id: image.id, filename: "other" });
      expect(await failure(repo.insert(clash))).toBe("Conflict");
      expect(await right(repo.findById(T, image.id))).toStrictEqual(image);
      // The clash's blob row would have been written first: it must be rolled back with the image.
      expect(await right(repo.blobReferences(clash.blob.key))).toBe(0);
    });

    test("inserting a new image over an existing blob key is a Conflict and writes nothing", async ({ repo }) => {
      const image = anImage();
      await right(repo.insert(image));
      const clash = anImage({ blob: image.blob });
      expect(await failure(repo.insert(clash))).toBe("Conflict");
      expect(await failure(repo.findById(T, clash.id))).toBe("NotFound");
      expect(await right(repo.blobReferences(image.blob.key))).toBe(1);
    });
  });

  describe("listing an album", () => {
    const OTHER = "00100000999ZZ999" as AlbumId;

    test("returns newest first, ties broken by id descending, with the album's total on every page", async ({ repo }) => {
      const [lo, hi] = [newId(), newId()].sort();
      const tieLo = anImage({ id: lo as ImageId, createdAt: at("2020-01-02T00:00:00.000Z") });
      const tieHi = anImage({ id: hi as ImageId, createdAt: at("2020-01-02T00:00:00.000Z") });
      const oldest = anImage({ createdAt: at("2019-01-01T00:00:00.000Z") });
      const newest = anImage({ createdAt: at("2021-06-01T00:00:00.000Z") });
      const middle = anImage({ createdAt: at("2020-01-02T00:00:00.001Z") });
      for (const image of [tieLo, oldest, newest, tieHi, middle]) await right(repo.insert(image));
      for (const image of [anImage({ albumId: OTHER }), anImage({ albumId: OTHER, createdAt: at("2030-01-01T00:00:00.000Z") })])
        await right(repo.insert(image));

      const ids = (page: { items: readonly Image[] }) => page.items.map((i) => i.id);
      const all = await right(repo.listByAlbum(T, newest.albumId, { offset: 0, limit: 50 }));
      expect(ids(all)).toEqual([newest.id, middle.id, tieHi.id, tieLo.id, oldest.id]);
      expect(all.total).toBe(5);
      expect(all.items[0]).toStrictEqual(newest);

      const second = await right(repo.listByAlbum(T, newest.albumId, { offset: 2, limit: 2 }));
      expect(ids(second)).toEqual([tieHi.id, tieLo.id]);
      expect(second.total).toBe(5);
      const last = await right(repo.listByAlbum(T, newest.albumId, { offset: 4, limit: 2 }));
      expect(ids(last)).toEqual([oldest.id]);
      const beyond = await right(repo.listByAlbum(T, newest.albumId, { offset: 10, limit: 2 }));
      expect(beyond).toEqual({ items: [], total: 5 });
    });

    test("only lists the album's own images", async ({ repo }) => {
      const mine = anImage();
      const theirs = anImage({ albumId: OTHER });
      await right(repo.insert(mine));
      await right(repo.insert(theirs));
      const other = await right(repo.listByAlbum(T, OTHER, { offset: 0, limit: 10 }));
      expect(other.items.map((i) => i.id)).toEqual([theirs.id]);
      expect(other.total).toBe(1);
      expect(await right(repo.listByAlbum(T, "nobody" as AlbumId, { offset: 0, limit: 10 }))).toEqual({ items: [], total: 0 });
    });

    describe("by cursor (keyset)", () => {
      const ALBUM_K = "00100000777KS001" as AlbumId;
      const K = "tenant-k" as TenantId;
      const ids = (page: { items: readonly Image[] }) => page.items.map((i) => i.id);
      const spot = (image: Image): ListingPosition => ({ createdAt: image.createdAt, id: image.id });
      /** Newest first, ties on created_at by id descending, worked out here rather than asked of the repository. */
      const order = (images: readonly Image[]) =>
        [...images].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1)).map((i) => i.id);
      const olderThan = (images: readonly Image[], p: ListingPosition) =>
        images.filter((i) => i.createdAt < p.createdAt || (i.createdAt.getTime() === p.createdAt.getTime() && i.id < p.id));
      /** `n` images, four to each created_at, stored out of order. */
      const crowd = async (repo: ImageRepository, n: number, overrides: Partial<Image> = {}): Promise<Image[]> => {
        const images = Array.from({ length: n }, (_, i) => anImage({ createdAt: new Date(Date.UTC(2022, 0, 1, 0, 0, Math.floor(i / 4))), ...overrides }));
        for (let i = 0; i < n; i++) await right(repo.insert(images[(i * 7) % n]!));
        return images;
      };

      test("walking page by page from each page's last image gives the offset order, ties included, without duplicates or gaps", async ({ repo }) => {
        const images = await crowd(repo, 25, { albumId: ALBUM_K });
        // Images the walk must not pick up, at the same instants: another album's, and another tenant's in this album.
        await crowd(repo, 6, { albumId: OTHER });
        await crowd(repo, 6, { albumId: ALBUM_K, tenant: K });
        const all = await right(repo.listByAlbum(T, ALBUM_K, { offset: 0, limit: 100 }));
        expect(ids(all)).toEqual(order(images));

        const pages: Image[][] = [];
        let after: ListingPosition | undefined;
        for (let n = 0; n < 10; n++) {
          const page = await right(repo.listByAlbum(T, ALBUM_K, { offset: 0, limit: 7, ...(after ? { after } : {}) }));
          expect(page.total).toBe(25);
          expect(ids(page), `page ${n + 1}`).toEqual(ids(await right(repo.listByAlbum(T, ALBUM_K, { offset: n * 7, limit: 7 }))));
          if (page.items.length === 0) break;
          pages.push([...page.items]);
          after = spot(page.items.at(-1)!);
        }
        expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 4]);
        // Pages 1 and 2 meet inside a run of four images with the same created_at.
        expect(pages[0]!.at(-1)!.createdAt).toEqual(pages[1]![0]!.createdAt);
        expect(pages.flat().map((i) => i.id)).toEqual(order(images));
        expect(pages.flat()).toStrictEqual(all.items);
        // The offset counts from the position.
        expect(ids(await right(repo.listByAlbum(T, ALBUM_K, { offset: 2, limit: 3, after: spot(all.items[9]!) })))).toEqual(ids(all).slice(12, 15));
      });

      test("walking back from each page's first image gives the same pages, newest first", async ({ repo }) => {
        const images = await crowd(repo, 25, { albumId: ALBUM_K });
        await crowd(repo, 6, { albumId: ALBUM_K, tenant: K });
        const all = order(images);
        const pages: string[][] = [];
        let before = spot(images.find((i) => i.id === all.at(-1))!);
        for (let n = 0; n < 10; n++) {
          const page = await right(repo.listByAlbum(T, ALBUM_K, { offset: 0, limit: 7, before }));
          expect(page.total).toBe(25);
          if (page.items.length === 0) break;
          pages.push(ids(page));
          before = spot(page.items[0]!);
        }
        // 24 images are newer than the oldest: three pages of seven nearest to it, then the three newest.
        expect(pages).toEqual([all.slice(17, 24), all.slice(10, 17), all.slice(3, 10), all.slice(0, 3)]);
        expect(ids(await right(repo.listByAlbum(T, ALBUM_K, { offset: 2, limit: 3, before: spot(images.find((i) => i.id === all[20])!) })))).toEqual(all.slice(15, 18));
      });

      test("a position past either end gives an empty page, with the album's total", async ({ repo }) => {
        const images = await crowd(repo, 9, { albumId: ALBUM_K });
        const all = order(images);
        const oldest = images.find((i) => i.id === all.at(-1))!;
        const newest = images.find((i) => i.id === all[0])!;
        expect(await right(repo.listByAlbum(T, ALBUM_K, { offset: 0, limit: 5, after: spot(oldest) }))).toEqual({ items: [], total: 9 });
        expect(await right(repo.listByAlbum(T, ALBUM_K, { offset: 0, limit: 5, before: spot(newest) }))).toEqual({ items: [], total: 9 });
        const dawn = { createdAt: at("1970-01-01T00:00:00.000Z"), id: "ffffffff-ffff-4fff-bfff-ffffffffffff" as ImageId };
        expect(await right(repo.listByAlbum(T, ALBUM_K, { offset: 0, limit: 5, after: dawn }))).toEqual({ items: [], total: 9 });
        // A position newer than every image starts at the first one; one older, read backwards, ends at the last.
        const future = { createdAt: at("2100-01-01T00:00:00.000Z"), id: "00000000-0000-4000-8000-000000000000" as ImageId };
        expect(ids(await right(repo.listByAlbum(T, ALBUM_K, { offset: 0, limit: 5, after: future })))).toEqual(all.slice(0, 5));
        expect(ids(await right(repo.listByAlbum(T, ALBUM_K, { offset: 0, limit: 5, before: dawn })))).toEqual(all.slice(4, 9));
      });

      test("images added newer than the position, or removed ahead of it, do not shift the pages after it", async ({ repo }) => {
        await crowd(repo, 25, { albumId: ALBUM_K });
        const first = await right(repo.listByAlbum(T, ALBUM_K, { offset: 0, limit: 10 }));
        const second = await right(repo.listByAlbum(T, ALBUM_K, { offset: 10, limit: 10 }));
        for (let i = 0; i < 3; i++) await right(repo.insert(anImage({ albumId: ALBUM_K, createdAt: at(`2023-0${i + 1}-01T00:00:00.000Z`) })));
        await right(repo.remove(T, first.items[4]!.id));
        const after = spot(first.items.at(-1)!);
        const byCursor = await right(repo.listByAlbum(T, ALBUM_K, { offset: 0, limit: 10, after }));
        expect(ids(byCursor)).toEqual(ids(second));
        expect(byCursor.total).toBe(27);
        // By offset the same page now starts two images earlier: the point of the keyset.
        const byOffset = await right(repo.listByAlbum(T, ALBUM_K, { offset: 10, limit: 10 }));
        expect(ids(byOffset).slice(0, 2)).toEqual(ids(first).slice(-2));
        expect(ids(byOffset).slice(2)).toEqual(ids(second).slice(0, 8));
      });

      test("stay within the tenant and album asked for, whoever's image the position came from", async ({ repo }) => {
        const mine = await crowd(repo, 12, { albumId: ALBUM_K });
        const theirs = await crowd(repo, 12, { albumId: ALBUM_K, tenant: K });
        const elsewhere = await crowd(repo, 12, { albumId: OTHER });
        // A position taken from tenant K's images, in the middle of the same instants.
        const foreign = spot(theirs.find((i) => i.id === order(theirs)[5])!);
        const older = olderThan(mine, foreign);
        const page = await right(repo.listByAlbum(T, ALBUM_K, { offset: 0, limit: 50, after: foreign }));
        expect(ids(page)).toEqual(order(older));
        expect(page.total).toBe(12);
        expect(older.length).toBeGreaterThan(0);
        const newer = await right(repo.listByAlbum(T, ALBUM_K, { offset: 0, limit: 50, before: foreign }));
        expect(ids(newer)).toEqual(order(mine.filter((i) => !older.includes(i))));
        // A position from this album, used on another one, pages that one.
        const fromMine = spot(mine.find((i) => i.id === order(mine)[3])!);
        const onOther = await right(repo.listByAlbum(T, OTHER, { offset: 0, limit: 50, after: fromMine }));
        expect(onOther.items.every((i) => i.albumId === OTHER && i.tenant === T)).toBe(true);
        expect(ids(onOther)).toEqual(order(olderThan(elsewhere, fromMine)));
        expect(onOther.items.length).toBeGreaterThan(0);
        // And tenant K, given the same position, pages its own images only.
        const asK = await right(repo.listByAlbum(K, ALBUM_K, { offset: 0, limit: 50, after: fromMine }));
        expect(ids(asK)).toEqual(order(olderThan(theirs, fromMine)));
        expect(asK.total).toBe(12);
      });
    });
  });

  describe("duplicating", () => {
    test("insertCopy stores the copy on the source's blob and counts the reference", async ({ repo }) => {
      const source = richImage();
      await right(repo.insert(source));
      const copy = duplicateOf(source, newId(), at("2026-05-01T10:00:00.123Z"), null);
      await right(repo.insertCopy(source.id, copy));

      expect(await right(repo.findById(T, copy.id))).toStrictEqual(copy);
      expect(await right(repo.findById(T, source.id))).toStrictEqual(source);
      expect(await right(repo.blobReferences(source.blob.key))).toBe(2);

      const copyOfCopy = duplicateOf(copy, newId(), at("2026-05-01T10:00:01.000Z"), null);
      await right(repo.insertCopy(copy.id, copyOfCopy));
      const found = await right(repo.findById(T, copyOfCopy.id));
      expect(found.blob).toStrictEqual(source.blob);
      expect(found.groupId).toBe(source.groupId);
      expect(await right(repo.blobReferences(source.blob.key))).toBe(3);
    });

    test("insertCopy of a missing source is NotFound and writes nothing", async ({ repo }) => {
      const other = anImage();
      await right(repo.insert(other));
      const copy = duplicateOf(other, newId(), at("2026-05-01T10:00:00.000Z"), null);
      expect(await failure(repo.insertCopy(newId(), copy))).toBe("NotFound");
      expect(await failure(repo.findById(T, copy.id))).toBe("NotFound");
      expect(await right(repo.blobReferences(other.blob.key))).toBe(1);
      expect((await right(repo.listByAlbum(T, other.albumId, { offset: 0, limit: 10 }))).total).toBe(1);
    });

    test("insertCopy onto an existing id is a Conflict and leaves the count alone", async ({ repo }) => {
      const { source, copies } = await family(repo, 1);
      const clash = duplicateOf(source, copies[0]!.id, at("2026-05-01T10:00:00.000Z"), null);
      expect(await failure(repo.insertCopy(source.id, clash))).toBe("Conflict");
      expect(await right(repo.blobReferences(source.blob.key))).toBe(2);
      expect(await right(repo.findById(T, copies[0]!.id))).toStrictEqual(copies[0]);
    });
  });

  describe("duplicating in one step", () => {
    const spec = (createdAt = at("2026-05-01T10:00:00.123Z")) => ({ id: newId(), createdBy: "dup-user", createdAt });
    test("copies within the scope: the same image as duplicateOf, sharing the blob", async ({ repo }) => {
      const source = anImage({ title: "Été", metadatas: { z: 1, a: [2] } });
      await right(repo.insert(source));
      const s = spec();
      const copy = await right(repo.duplicate(T, source.id, { kind: "albums", albums: [source.albumId] }, s));
      expect(copy).toStrictEqual(duplicateOf(source, s.id, s.createdAt, "dup-user"));
      expect(await right(repo.findById(T, s.id))).toStrictEqual(copy);
      expect(await right(repo.blobReferences(source.blob.key))).toBe(2);
      const again = spec();
      expect((await right(repo.duplicate(T, copy.id, { kind: "tenant" }, again))).groupId).toBe(source.id);
    });

    test("what a caller does to a copy it got back, or to the time it passed, changes neither the stored copy nor its source", async ({ repo }) => {
      const source = anImage({ exifs: { camera: { make: "X" } }, gpsExifs: [1, 2], crop: { x: 1, y: 2, w: 3, h: 4 } });
      await right(repo.insert(source));
      const s = spec();
      const copy = await right(repo.duplicate(T, source.id, { kind: "tenant" }, s));
      const stored = structuredClone(copy);
      s.createdAt.setTime(0);
      ((copy.exifs["camera"] as { [k: string]: unknown })["make"] = "changed");
      (copy.gpsExifs as unknown as number[])[0] = 9;
      (copy.crop as { x: number }).x = 9;
      (copy.blob as { bytes: number }).bytes = 1;
      copy.updatedAt.setTime(0);
      expect(await right(repo.findById(T, copy.id))).toStrictEqual(stored);
      expect(await right(repo.findById(T, source.id))).toStrictEqual(source);
    });

    test("refuses outside the scope, in another tenant, or without a source, writing nothing", async ({ repo }) => {
      const source = anImage();
      await right(repo.insert(source));
      expect(await failure(repo.duplicate(T, source.id, { kind: "albums", albums: ["elsewhere"] }, spec()))).toBe("Forbidden");
      expect(await failure(repo.duplicate("tenant-b" as TenantId, source.id, { kind: "tenant" }, spec()))).toBe("NotFound");
      expect(await failure(repo.duplicate(T, newId(), { kind: "tenant" }, spec()))).toBe("NotFound");
      expect((await right(repo.listByAlbum(T, source.albumId, { offset: 0, limit: 10 }))).total).toBe(1);
      const taken = spec();
      await right(repo.duplicate(T, source.id, { kind: "tenant" }, taken));
      expect(await failure(repo.duplicate(T, source.id, { kind: "tenant" }, { ...spec(), id: taken.id }))).toBe("Conflict");
    });

    test("racing the deletion of its source: NotFound, or a copy that keeps the blob held", async ({ repo }) => {
      for (let round = 0; round < 10; round++) {
        const source = anImage();
        await right(repo.insert(source));
        const [copied, removed] = await Promise.all([repo.duplicate(T, source.id, { kind: "tenant" }, spec())(), repo.remove(T, source.id)()]);
        expect(E.isRight(removed)).toBe(true);
        if (E.isRight(copied)) {
          expect(E.isRight(removed) && removed.right.orphanedBlob).toBeNull();
          expect(await right(repo.blobReferences(source.blob.key))).toBe(1);
          expect(await right(repo.orphanedBlobs())).not.toContain(source.blob.key);
        } else {
          expect(copied.left._tag).toBe("NotFound");
          expect(E.isRight(removed) && removed.right.orphanedBlob).toBe(source.blob.key);
        }
      }
    });

    test("two deletes racing for a blob's last two images: exactly one reports it", async ({ repo }) => {
      for (let round = 0; round < 10; round++) {
        const source = anImage();
        await right(repo.insert(source));
        const copy = await right(repo.duplicate(T, source.id, { kind: "tenant" }, spec()));
        const [a, b] = await Promise.all([repo.remove(T, source.id)(), repo.removeAll(T, [copy.id], { kind: "tenant" })()]);
        const reported = [E.isRight(a) ? a.right.orphanedBlob : "x", ...(E.isRight(b) ? b.right.map((r) => r.orphanedBlob) : ["x"])].filter((k) => k !== null);
        expect(reported).toEqual([source.blob.key]);
        expect(await right(repo.orphanedBlobs())).toContain(source.blob.key);
      }
    });
  });

  describe("updating", () => {
    test("replaces only the mutable fields, bumps the version and returns the stored image", async ({ repo }) => {
      const image = richImage();
      await right(repo.insert(image));
      const changed: Image = {
        ...image,
        title: "Nouveau titre ✨",
        description: null,
        rotation: 90,
        crop: { x: 0, y: 0, w: 10.5, h: 20 },
        updatedAt: at("2026-02-03T04:05:06.789Z"),
        // Not mutable through update: must be ignored.
        filename: "renamed",
        metadatas: { replaced: true },
        processed: false,
      };
      const updated = await right(repo.update(changed, image.version));
      const expected: Image = {
        ...image,
        title: changed.title,
        description: null,
        rotation: 90,
        crop: changed.crop,
        updatedAt: changed.updatedAt,
        version: image.version + 1,
      };
      expect(updated).toStrictEqual(expected);
      expect(await right(repo.findById(T, image.id))).toStrictEqual(expected);

      const uncropped = await right(repo.update({ ...updated, crop: null, title: null }, updated.version));
      expect(uncropped.crop).toBeNull();
      expect(uncropped.title).toBeNull();
      expect(uncropped.version).toBe(image.version + 2);
    });

    test("a stale expected version is a Conflict and changes nothing", async ({ repo }) => {
      const image = anImage();
      await right(repo.insert(image));
      const first = await right(repo.update({ ...image, title: "first" }, 1));
      expect(await failure(repo.update({ ...image, title: "stale" }, 1))).toBe("Conflict");
      expect(await right(repo.findById(T, image.id))).toStrictEqual(first);
    });

    test("updating a missing image is NotFound", async ({ repo }) => {
      expect(await failure(repo.update(anImage(), 1))).toBe("NotFound");
    });

    test("of concurrent updates from the same version exactly one wins", async ({ repo }) => {
      const image = anImage();
      await right(repo.insert(image));
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => repo.update({ ...image, title: `writer ${i}` }, image.version)()),
      );
      const winners = results.filter(E.isRight);
      expect(winners).toHaveLength(1);
      expect(results.filter(E.isLeft).map((r) => r.left._tag)).toEqual(Array(7).fill("Conflict"));
      const stored = await right(repo.findById(T, image.id));
      expect(stored.version).toBe(2);
      expect(stored.title).toBe(winners[0]!.right.title);
    });
  });

  describe("removing", () => {
    test("returns the removed image and reports its blob when it was the only reference", async ({ repo }) => {
      const image = richImage();
      await right(repo.insert(image));
      const removal = await right(repo.remove(T, image.id));
      expect(removal).toStrictEqual({ image, orphanedBlob: image.blob.key });
      expect(await failure(repo.findById(T, image.id))).toBe("NotFound");
      expect((await right(repo.listByAlbum(T, image.albumId, { offset: 0, limit: 10 }))).total).toBe(0);
      expect(await right(repo.blobReferences(image.blob.key))).toBe(0);
      expect(await right(repo.orphanedBlobs())).toEqual([image.blob.key]);
    });

    test("removing an unknown id is NotFound", async ({ repo }) => {
      expect(await failure(repo.remove(T, newId()))).toBe("NotFound");
    });

    test("only the removal of the last reference reports the blob, whatever the order", async ({ repo }) => {
      for (const order of permutations([0, 1, 2])) {
        const { source, copies } = await family(repo, 2);
        const members = [source, ...copies];
        const reports: (BlobKey | null)[] = [];
        const counts: number[] = [];
        for (const index of order) {
          reports.push((await right(repo.remove(T, members[index]!.id))).orphanedBlob);
          counts.push(await right(repo.blobReferences(source.blob.key)));
        }
        expect(reports, `order ${order.join(",")}`).toEqual([null, null, source.blob.key]);
        expect(counts).toEqual([2, 1, 0]);
      }
    });
  });

  describe("tenants", () => {
    const A = "tenant-a" as TenantId;
    const B = "tenant-b" as TenantId;
    /** The same album id in two tenants, one image each. */
    const twoTenants = async (repo: ImageRepository) => {
      const a = anImage({ tenant: A, createdBy: "user-a" });
      const b = anImage({ tenant: B, createdBy: "user-b", albumId: a.albumId });
      await right(repo.insert(a));
      await right(repo.insert(b));
      return { a, b };
    };

    test("keep the tenant and creator of an image", async ({ repo }) => {
      const { a } = await twoTenants(repo);
      const found = await right(repo.findById(A, a.id));
      expect(found.tenant).toBe(A);
      expect(found.createdBy).toBe("user-a");
    });

    test("never find, list, copy, update or remove another tenant's image, even in an album of the same id", async ({ repo }) => {
      const { a, b } = await twoTenants(repo);
      expect(await failure(repo.findById(B, a.id))).toBe("NotFound");
      expect(await failure(repo.findById(T, a.id))).toBe("NotFound");
      const listedA = await right(repo.listByAlbum(A, a.albumId, { offset: 0, limit: 10 }));
      expect(listedA.items.map((i) => i.id)).toEqual([a.id]);
      expect(listedA.total).toBe(1);
      expect((await right(repo.listByAlbum(T, a.albumId, { offset: 0, limit: 10 }))).total).toBe(0);
      // A copy made by tenant B that names tenant A's image as its source.
      const stolen = duplicateOf(a, newId(), at("2026-05-01T10:00:00.000Z"), "user-b");
      expect(await failure(repo.insertCopy(a.id, { ...stolen, tenant: B }))).toBe("NotFound");
      expect(await right(repo.blobReferences(a.blob.key))).toBe(1);
      expect(await failure(repo.update({ ...a, tenant: B, title: "taken over" }, a.version))).toBe("NotFound");
      expect(await failure(repo.remove(B, a.id))).toBe("NotFound");
      expect(await right(repo.findById(A, a.id))).toStrictEqual(a);
      expect(await right(repo.findById(B, b.id))).toStrictEqual(b);
    });

    test("copy within the tenant, keeping the copy in the source's tenant", async ({ repo }) => {
      const { a } = await twoTenants(repo);
      const copy = duplicateOf(a, newId(), at("2026-05-01T10:00:00.000Z"), "user-a2");
      await right(repo.insertCopy(a.id, copy));
      const found = await right(repo.findById(A, copy.id));
      expect(found.tenant).toBe(A);
      expect(found.createdBy).toBe("user-a2");
      expect(await right(repo.blobReferences(a.blob.key))).toBe(2);
    });
  });

  describe("removing several images", () => {
    const everywhere: AlbumScope = { kind: "tenant" };
    test("removes every listed image of the tenant, skips unknown ones and reports a blob left without images once", async ({ repo }) => {
      const { source, copies } = await family(repo, 2);
      const kept = anImage();
      const elsewhere = anImage({ tenant: "tenant-b" as TenantId });
      await right(repo.insert(kept));
      await right(repo.insert(elsewhere));
      const removals = await right(repo.removeAll(T, [source.id, copies[0]!.id, copies[1]!.id, newId(), elsewhere.id], everywhere));
      expect(removals.map((r) => r.image.id).sort()).toEqual([source.id, copies[0]!.id, copies[1]!.id].sort());
      expect(removals.filter((r) => r.orphanedBlob !== null).map((r) => r.orphanedBlob)).toEqual([source.blob.key]);
      expect(await right(repo.blobReferences(source.blob.key))).toBe(0);
      expect(await right(repo.orphanedBlobs())).toContain(source.blob.key);
      expect(await failure(repo.findById(T, copies[1]!.id))).toBe("NotFound");
      expect(await right(repo.findById(T, kept.id))).toStrictEqual(kept);
      expect(await right(repo.findById("tenant-b" as TenantId, elsewhere.id))).toStrictEqual(elsewhere);
    });

    test("removes nothing when one image lies outside the scope", async ({ repo }) => {
      const mine = anImage();
      const theirs = anImage({ albumId: "other-album" as AlbumId });
      await right(repo.insert(mine));
      await right(repo.insert(theirs));
      expect(await failure(repo.removeAll(T, [mine.id, theirs.id], { kind: "albums", albums: [mine.albumId] }))).toBe("Forbidden");
      expect(await right(repo.findById(T, mine.id))).toStrictEqual(mine);
      expect(await right(repo.blobReferences(mine.blob.key))).toBe(1);
      expect(await right(repo.removeAll(T, [mine.id, theirs.id], { kind: "albums", albums: [mine.albumId, theirs.albumId] }))).toHaveLength(2);
    });
  });

  describe("moving images", () => {
    test("moves to the destination with the tag of the new album, a new version and the same blob", async ({ repo }) => {
      const image = anImage();
      await right(repo.insert(image));
      const when = at("2026-06-01T00:00:00.000Z");
      const [moved] = await right(repo.move(T, [{ id: image.id, to: "dest-album" as AlbumId }, { id: newId(), to: "dest-album" as AlbumId }], { kind: "tenant" }, when));
      expect(moved).toStrictEqual({ ...image, albumId: "dest-album", infos: { ...image.infos, tags: ["dest-album"] }, updatedAt: when, version: 2 });
      expect(await right(repo.findById(T, image.id))).toStrictEqual(moved);
      expect((await right(repo.listByAlbum(T, image.albumId, { offset: 0, limit: 10 }))).total).toBe(0);
      expect((await right(repo.listByAlbum(T, "dest-album" as AlbumId, { offset: 0, limit: 10 }))).items.map((i) => i.id)).toEqual([image.id]);
      expect(await right(repo.blobReferences(image.blob.key))).toBe(1);
    });

    test("moves nothing when one source album lies outside the scope, and never another tenant's image", async ({ repo }) => {
      const mine = anImage();
      const theirs = anImage({ albumId: "other-album" as AlbumId });
      const elsewhere = anImage({ tenant: "tenant-b" as TenantId });
      for (const i of [mine, theirs, elsewhere]) await right(repo.insert(i));
      const to = "dest-album" as AlbumId;
      expect(await failure(repo.move(T, [{ id: mine.id, to }, { id: theirs.id, to }], { kind: "albums", albums: [mine.albumId] }, new Date()))).toBe("Forbidden");
      expect(await right(repo.findById(T, mine.id))).toStrictEqual(mine);
      expect(await right(repo.move(T, [{ id: elsewhere.id, to }], { kind: "tenant" }, new Date()))).toEqual([]);
      expect(await right(repo.findById("tenant-b" as TenantId, elsewhere.id))).toStrictEqual(elsewhere);
    });

    test("a move racing a delete and a copy of the same image never loses or doubles it", async ({ repo }) => {
      for (let round = 0; round < 5; round++) {
        const image = anImage();
        await right(repo.insert(image));
        const copy = duplicateOf(image, newId(), at("2026-01-01T00:00:00.000Z"), null);
        const [moved, removed, copied] = await Promise.all([
          repo.move(T, [{ id: image.id, to: "dest-album" as AlbumId }], { kind: "tenant" }, new Date())(),
          repo.removeAll(T, [image.id], { kind: "tenant" })(),
          repo.insertCopy(image.id, copy)(),
        ]);
        expect(E.isRight(moved) && E.isRight(removed)).toBe(true);
        const gone = E.isRight(removed) && removed.right.length === 1;
        const copyLives = E.isRight(copied);
        const present = E.isRight(await repo.findById(T, image.id)());
        expect(present).toBe(!gone);
        expect(await right(repo.blobReferences(image.blob.key))).toBe((present ? 1 : 0) + (copyLives ? 1 : 0));
      }
    });
  });

  describe("searching", () => {
    const q = (text: string): SearchQuery => {
      const parsed = parseQuery(text);
      if (E.isLeft(parsed)) throw new Error(parsed.left.message);
      return parsed.right;
    };
    const everywhere: AlbumScope = { kind: "tenant" };
    const found = async (repo: ImageRepository, text: string, options = { substringFilename: false }, scope: AlbumScope = everywhere, tenant = T) =>
      (await right(repo.search(tenant, scope, q(text), options, { offset: 0, limit: 100 }))).items.map((i) => i.title);
    const seed = async (repo: ImageRepository) => {
      const at2 = (s: number) => at(`2026-03-01T00:00:${String(s).padStart(2, "0")}.000Z`);
      const images = [
        anImage({ title: "Café au lait", filename: "superplophey.jpg", createdAt: at2(1), metadatas: { colour: "Rouge vif" } }),
        anImage({ title: "Big cat", description: "a cat that is big", filename: "IMG_0042.png", createdAt: at2(2) }),
        anImage({ title: "cat big", albumId: "other-album" as AlbumId, infos: { tags: ["other-album"] }, filename: "x.png", createdAt: at2(3) }),
        anImage({ title: "Elsewhere cafe", tenant: "tenant-b" as TenantId, filename: "plop.png", createdAt: at2(4) }),
      ];
      for (const i of images) await right(repo.insert(i));
      return images;
    };

    test("matches words case- and accent-insensitively, newest first, within the tenant", async ({ repo }) => {
      await seed(repo);
      expect(await found(repo, "CAFE")).toEqual(["Café au lait"]);
      expect(await found(repo, "cat")).toEqual(["cat big", "Big cat"]);
      expect(await found(repo, "*")).toEqual(["cat big", "Big cat", "Café au lait"]);
      expect(await found(repo, "cafe", undefined, everywhere, "tenant-b" as TenantId)).toEqual(["Elsewhere cafe"]);
    });

    test("phrases, OR, NOT and fields", async ({ repo }) => {
      await seed(repo);
      expect(await found(repo, '"big cat"')).toEqual(["Big cat"]);
      expect(await found(repo, "cafe OR big")).toEqual(["cat big", "Big cat", "Café au lait"]);
      expect(await found(repo, "cat -big")).toEqual([]);
      expect(await found(repo, "cat NOT description:big")).toEqual(["cat big"]);
      expect(await found(repo, "album_id:other-album")).toEqual(["cat big"]);
      expect(await found(repo, "metadatas.colour:rouge")).toEqual(["Café au lait"]);
      expect(await found(repo, "format:png")).toEqual(["cat big", "Big cat", "Café au lait"]);
    });

    test("version 2 also matches inside filenames", async ({ repo }) => {
      await seed(repo);
      expect(await found(repo, "plop")).toEqual([]);
      expect(await found(repo, "plop", { substringFilename: true })).toEqual(["Café au lait"]);
    });

    test("never outside the scope, and pages with a total", async ({ repo }) => {
      await seed(repo);
      expect(await found(repo, "cat", undefined, { kind: "albums", albums: ["other-album"] })).toEqual(["cat big"]);
      expect(await found(repo, "*", undefined, { kind: "albums", albums: [] })).toEqual([]);
      const page = await right(repo.search(T, everywhere, q("*"), { substringFilename: false }, { offset: 1, limit: 1 }));
      expect(page.total).toBe(3);
      expect(page.items.map((i) => i.title)).toEqual(["Big cat"]);
      // A page past the end still knows the total; a query matching nothing has none.
      const beyond = await right(repo.search(T, everywhere, q("*"), { substringFilename: false }, { offset: 10, limit: 5 }));
      expect(beyond).toEqual({ items: [], total: 3 });
      const none = await right(repo.search(T, everywhere, q("zebra"), { substringFilename: false }, { offset: 0, limit: 5 }));
      expect(none).toEqual({ items: [], total: 0 });
    });

    test("sees every write at once: caption changes, moves and deletes", async ({ repo }) => {
      const [cafe, cat] = await seed(repo);
      await right(repo.update({ ...cafe!, title: "Thé vert" }, cafe!.version));
      expect(await found(repo, "cafe")).toEqual([]);
      expect(await found(repo, "the")).toEqual(["Thé vert"]);
      await right(repo.move(T, [{ id: cat!.id, to: "moved-album" as AlbumId }], everywhere, new Date()));
      expect(await found(repo, "album_id:moved-album")).toEqual(["Big cat"]);
      expect(await found(repo, "tag:moved-album")).toEqual(["Big cat"]);
      await right(repo.remove(T, cat!.id));
      expect(await found(repo, "album_id:moved-album")).toEqual([]);
      const copy = duplicateOf(cafe!, newId(), at("2026-04-01T00:00:00.000Z"), null, "copies" as AlbumId);
      await right(repo.insertCopy(cafe!.id, { ...copy, title: "Thé vert" }));
      expect(await found(repo, "album_id:copies")).toEqual(["Thé vert"]);
    });
  });

  describe("orphaned blobs", () => {
    test("lists zero-reference blobs until they are released", async ({ repo }) => {
      expect(await right(repo.orphanedBlobs())).toEqual([]);
      const [a, b, live] = [anImage(), anImage(), anImage()];
      for (const image of [a, b, live]) await right(repo.insert(image));
      await right(repo.remove(T, a.id));
      await right(repo.remove(T, b.id));
      expect([...(await right(repo.orphanedBlobs()))].sort()).toEqual([a.blob.key, b.blob.key].sort());

      await right(repo.releaseBlob(a.blob.key));
      expect(await right(repo.orphanedBlobs())).toEqual([b.blob.key]);
      expect(await right(repo.blobReferences(a.blob.key))).toBe(0);
      // Releasing twice is harmless.
      await right(repo.releaseBlob(a.blob.key));
      expect(await right(repo.orphanedBlobs())).toEqual([b.blob.key]);
    });

    test("releasing a blob that still has references forgets nothing", async ({ repo }) => {
      const { source, copies } = await family(repo, 1);
      await right(repo.releaseBlob(source.blob.key));
      expect(await right(repo.blobReferences(source.blob.key))).toBe(2);
      expect(await right(repo.findById(T, copies[0]!.id))).toStrictEqual(copies[0]);
      await right(repo.remove(T, source.id));
      expect((await right(repo.remove(T, copies[0]!.id))).orphanedBlob).toBe(source.blob.key);
    });
  });

  describe("blob reservations", () => {
    const reservedAt = new Date("2026-05-01T10:00:00.000Z");
    const later = new Date(reservedAt.getTime() + 60_000);

    test("a reservation is no orphan until it is older than asked, and is then", async ({ repo }) => {
      const image = anImage();
      await right(repo.reserveBlob(image.blob, reservedAt));
      expect(await right(repo.blobReferences(image.blob.key))).toBe(0);
      expect(await right(repo.orphanedBlobs())).toEqual([]);
      expect(await right(repo.orphanedBlobs(reservedAt))).toEqual([]);
      expect(await right(repo.orphanedBlobs(later))).toEqual([image.blob.key]);
    });

    test("inserting the image takes the reservation over", async ({ repo }) => {
      const image = anImage();
      await right(repo.reserveBlob({ ...image.blob, version: 0 }, reservedAt));
      await right(repo.insert(image));
      expect(await right(repo.blobReferences(image.blob.key))).toBe(1);
      expect(await right(repo.orphanedBlobs(later))).toEqual([]);
      // The stored blob is the inserted image's, not the provisional one.
      expect((await right(repo.findById(T, image.id))).blob).toStrictEqual(image.blob);
    });

    test("a key cannot be reserved twice, nor once held", async ({ repo }) => {
      const image = anImage();
      await right(repo.reserveBlob(image.blob, reservedAt));
      expect(await failure(repo.reserveBlob(image.blob, reservedAt))).toBe("Conflict");
      const held = anImage();
      await right(repo.insert(held));
      expect(await failure(repo.reserveBlob(held.blob, reservedAt))).toBe("Conflict");
      expect(await right(repo.blobReferences(held.blob.key))).toBe(1);
    });

    test("an image cannot take over a released or held blob", async ({ repo }) => {
      const first = anImage();
      await right(repo.insert(first));
      await right(repo.remove(T, first.id));
      const second = anImage({ blob: first.blob });
      expect(await failure(repo.insert(second))).toBe("Conflict");
      expect(await failure(repo.findById(T, second.id))).toBe("NotFound");
    });

    test("abandoning a reservation makes it an orphan at once", async ({ repo }) => {
      const image = anImage();
      await right(repo.reserveBlob(image.blob, reservedAt));
      expect(await right(repo.abandonBlob(image.blob))).toBe(true);
      expect(await right(repo.orphanedBlobs())).toEqual([image.blob.key]);
    });
  });

  describe("abandoning the blob of an insert whose outcome is unknown", () => {
    test("a blob no image holds is recorded as orphaned and may be deleted", async ({ repo }) => {
      const lost = anImage();
      expect(await right(repo.abandonBlob(lost.blob))).toBe(true);
      expect(await right(repo.orphanedBlobs())).toEqual([lost.blob.key]);
      // Asking again (a retry) gives the same answer and records nothing twice.
      expect(await right(repo.abandonBlob(lost.blob))).toBe(true);
      expect(await right(repo.orphanedBlobs())).toEqual([lost.blob.key]);
      await right(repo.releaseBlob(lost.blob.key));
      expect(await right(repo.orphanedBlobs())).toEqual([]);
    });

    test("a blob whose insert did commit is kept, with its count unchanged", async ({ repo }) => {
      const committed = anImage();
      await right(repo.insert(committed));
      expect(await right(repo.abandonBlob(committed.blob))).toBe(false);
      expect(await right(repo.blobReferences(committed.blob.key))).toBe(1);
      expect(await right(repo.orphanedBlobs())).toEqual([]);
      expect(await right(repo.findById(T, committed.id))).toStrictEqual(committed);
    });

    test("an insert racing the abandon is decided one way only", async ({ repo }) => {
      for (let round = 0; round < 10; round++) {
        const image = anImage();
        const [inserted, abandoned] = await Promise.all([repo.insert(image)(), repo.abandonBlob(image.blob)()]);
        const freed = E.isRight(abandoned) && abandoned.right;
        // Either the insert won (the blob is held) or the abandon did (the insert then conflicts).
        expect(E.isRight(inserted)).toBe(!freed);
        expect(await right(repo.blobReferences(image.blob.key))).toBe(freed ? 0 : 1);
      }
    });
  });

  describe("concurrency", () => {
    test("20 simultaneous duplicates of one image are all stored and counted", async ({ repo }) => {
      const source = anImage();
      await right(repo.insert(source));
      const copies = Array.from({ length: 20 }, (_, i) => duplicateOf(source, newId(), at(`2026-01-01T00:00:${String(i).padStart(2, "0")}.000Z`), null));
      const results = await Promise.all(copies.map((c) => repo.insertCopy(source.id, c)()));
      expect(results.filter(E.isLeft)).toEqual([]);
      expect(await right(repo.blobReferences(source.blob.key))).toBe(21);
      const listed = await right(repo.listByAlbum(T, source.albumId, { offset: 0, limit: 100 }));
      expect(listed.total).toBe(21);
      expect(new Set(listed.items.map((i) => i.id))).toEqual(new Set([source.id, ...copies.map((c) => c.id)]));
    });

    test("a duplicate racing the deletion of its source is either NotFound or a copy with a live blob", async ({ repo }) => {
      const outcomes = { copied: 0, missed: 0 };
      // 24 rounds at least, and more (up to 96) until the race has gone both ways: which side wins is the scheduler's call.
      for (let round = 0; round < 96 && (round < 24 || outcomes.copied === 0 || outcomes.missed === 0); round++) {
        const source = anImage();
        await right(repo.insert(source));
        const copies = [0, 1].map(() => duplicateOf(source, newId(), at("2026-01-01T00:00:00.000Z"), null));
        // Rotate the removal's position so either side gets the chance to go first.
        const tasks = [repo.insertCopy(source.id, copies[0]!), repo.insertCopy(source.id, copies[1]!)];
        const removeAt = round % 3;
        const all = [...tasks.slice(0, removeAt), repo.remove(T, source.id), ...tasks.slice(removeAt)];
        const results = await Promise.all(all.map((t) => (t as TaskEither<Tagged, unknown>)()));
        const removal = results[removeAt]!;
        const copyResults = results.filter((_, i) => i !== removeAt);
        if (E.isLeft(removal)) throw new Error(`removing the source failed: ${removal.left._tag}`);
        const reports: (BlobKey | null)[] = [(removal.right as { orphanedBlob: BlobKey | null }).orphanedBlob];

        for (const [i, result] of copyResults.entries()) {
          const copy = copies[i]!;
          if (E.isLeft(result)) {
            expect(result.left._tag).toBe("NotFound");
            expect(await failure(repo.findById(T, copy.id))).toBe("NotFound");
            outcomes.missed++;
          } else {
            expect(await right(repo.findById(T, copy.id))).toStrictEqual(copy);
            expect(await right(repo.blobReferences(source.blob.key))).toBeGreaterThan(0);
            outcomes.copied++;
          }
        }
        for (const [i, result] of copyResults.entries())
          if (E.isRight(result)) reports.push((await right(repo.remove(T, copies[i]!.id))).orphanedBlob);

        expect(reports.filter((r) => r !== null)).toEqual([source.blob.key]);
        expect(await right(repo.blobReferences(source.blob.key))).toBe(0);
        expect((await right(repo.orphanedBlobs())).filter((k) => k === source.blob.key)).toHaveLength(1);
      }
      // The race went both ways over the rounds, so both branches above were exercised.
      expect(outcomes.copied).toBeGreaterThan(0);
      expect(outcomes.missed).toBeGreaterThan(0);
    });

    test("removing all members of a family at once reports the blob exactly once", async ({ repo }) => {
      const { source, copies } = await family(repo, 9);
      const removals = await Promise.all([source, ...copies].map((m) => right(repo.remove(T, m.id))));
      expect(removals.map((r) => r.orphanedBlob).filter((k) => k !== null)).toEqual([source.blob.key]);
      expect(await right(repo.blobReferences(source.blob.key))).toBe(0);
      expect(await right(repo.orphanedBlobs())).toEqual([source.blob.key]);
    });
  });
}
