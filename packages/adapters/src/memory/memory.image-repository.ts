import {
  conflict,
  duplicateOf,
  forbidden,
  inAlbum,
  inScope,
  searchMatcher,
  type Removal,
  imageNotFound,
  unavailable,
  type BlobKey,
  type BlobRef,
  type Image,
  type ImageId,
  type ImageRepository,
  type Unavailable,
} from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import { completeIn, type MemoryIdempotencyRecords } from "./memory.idempotency-store.js";
import type { TaskEither } from "fp-ts/lib/TaskEither.js";

interface StoredBlob {
  blob: BlobRef;
  refs: number;
  /** Set while an upload is writing the bytes. */
  reservedAt: Date | null;
}

/** Runs `step` whole when the Task runs; nothing else can interleave with synchronous code. */
const atomically =
  <Err, A>(step: () => E.Either<Err, A>): TaskEither<Err | Unavailable, A> =>
  async () => {
    try {
      return step();
    } catch (e) {
      return E.left(unavailable("image repository failed", e));
    }
  };

/**
 * A deep copy of JSON data. Written out rather than structuredClone, which serialises and costs
 * several times more; `__proto__` is defined as an own key, as JSON.parse makes it.
 */
const copyJson = <T>(value: T): T => {
  if (Array.isArray(value)) return value.map(copyJson) as T;
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = copyJson((value as Record<string, unknown>)[key]);
    if (key === "__proto__") Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  return out as T;
};

const copyDate = (d: Date): Date => new Date(d.getTime());
const copyPair = <P extends readonly [number, number] | null>(p: P): P => (p === null ? p : ([p[0], p[1]] as unknown as P));

/** A deep copy of an image, field by field: what the duplicate, on every request, hands back. */
const copyImage = (image: Image): Image => ({
  ...image,
  blob: { ...image.blob },
  infos: copyJson(image.infos),
  exifs: copyJson(image.exifs),
  metadatas: copyJson(image.metadatas),
  gpsHtml: copyPair(image.gpsHtml),
  gpsIp: copyPair(image.gpsIp),
  gpsExifs: copyPair(image.gpsExifs),
  takenAt: image.takenAt === null ? null : copyDate(image.takenAt),
  crop: image.crop === null ? null : { ...image.crop },
  createdAt: copyDate(image.createdAt),
  updatedAt: copyDate(image.updatedAt),
});

const page = (n: number): number => (Number.isFinite(n) ? Math.max(0, Math.floor(n)) : 0);

type Positioned = Pick<Image, "createdAt" | "id">;

const newestFirst = (a: Positioned, b: Positioned): number =>
  b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * Images and blob reference counts in two Maps, with the semantics of the SQL repository. Images are
 * copied in and out, so callers cannot alter what is stored by mutating what they passed or got back.
 * Stored images may share their parts (a duplicate its source's): the store never changes a part in place.
 */
export const memoryImageRepository = (idempotency: MemoryIdempotencyRecords = new Map()): ImageRepository => {
  const images = new Map<ImageId, Image>();
  const blobs = new Map<BlobKey, StoredBlob>();

  return {
    findById: (tenant, id) =>
      atomically(() => {
        const image = images.get(id);
        return image && image.tenant === tenant ? E.right(copyImage(image)) : E.left(imageNotFound(id));
      }),

    listByAlbum: (tenant, albumId, { offset, limit, after, before }) =>
      atomically(() => {
        const inAlbum = [...images.values()].filter((i) => i.tenant === tenant && i.albumId === albumId).sort(newestFirst);
        const between = inAlbum.filter((i) => (!after || newestFirst(after, i) < 0) && (!before || newestFirst(i, before) < 0));
        const start = page(offset);
        // From `before`, the page is the images nearest to it: counted back from the end.
        const end = before ? Math.max(0, between.length - start) : start + page(limit);
        const items = between.slice(before ? Math.max(0, end - page(limit)) : start, end);
        return E.right({ items: items.map(copyImage), total: inAlbum.length });
      }),

    search: (tenant, scope, query, options, { offset, limit }) =>
      atomically(() => {
        const matches = searchMatcher(query, options);
        const found = [...images.values()].filter((i) => i.tenant === tenant && inScope(scope, i.albumId) && matches(i)).sort(newestFirst);
        const start = page(offset);
        return E.right({ items: found.slice(start, start + page(limit)).map(copyImage), total: found.length });
      }),

    insert: (image, completion) =>
      atomically(() => {
        const existing = blobs.get(image.blob.key);
        const reserved = existing !== undefined && existing.refs === 0 && existing.reservedAt !== null;
        if (images.has(image.id) || (existing && !reserved))
          return E.left(conflict(`image ${image.id} or blob ${image.blob.key} already exists`));
        blobs.set(image.blob.key, { blob: structuredClone(image.blob), refs: 1, reservedAt: null });
        images.set(image.id, copyImage(image));
        completeIn(idempotency, completion);
        return E.right(undefined);
      }),

    reserveBlob: (blob, at) =>
      atomically(() => {
        if (blobs.has(blob.key)) return E.left(conflict(`blob ${blob.key} already exists`));
        blobs.set(blob.key, { blob: structuredClone(blob), refs: 0, reservedAt: new Date(at) });
        return E.right(undefined);
      }),

    insertCopy: (sourceId, copy, completion) =>
      atomically(() => {
        const source = images.get(sourceId);
        if (!source || source.tenant !== copy.tenant) return E.left(imageNotFound(sourceId));
        if (images.has(copy.id)) return E.left(conflict(`image ${copy.id} already exists`));
        const blob = blobs.get(source.blob.key);
        if (!blob) throw new Error(`blob ${source.blob.key} of image ${sourceId} is missing`);
        blob.refs += 1;
        // The copy points at the source's blob, whatever the caller put in `copy.blob`.
        images.set(copy.id, copyImage({ ...copy, blob: source.blob }));
        completeIn(idempotency, completion);
        return E.right(undefined);
      }),

    duplicate: (tenant, sourceId, scope, { id, createdBy, createdAt }) =>
      atomically(() => {
        const source = images.get(sourceId);
        if (!source || source.tenant !== tenant) return E.left(imageNotFound(sourceId));
        if (!inScope(scope, source.albumId)) return E.left(forbidden(`token lacks image_duplicate on album ${source.albumId}`));
        if (images.has(id)) return E.left(conflict(`image ${id} already exists`));
        // Stored as made: its parts are the stored source's, and what the caller gets is a copy.
        const copy = duplicateOf(source, id, new Date(createdAt.getTime()), createdBy);
        blobs.get(source.blob.key)!.refs += 1;
        images.set(id, copy);
        return E.right(copyImage(copy));
      }),

    update: (image, expectedVersion) =>
      atomically(() => {
        const current = images.get(image.id);
        if (!current || current.tenant !== image.tenant) return E.left(imageNotFound(image.id));
        if (current.version !== expectedVersion)
          return E.left(conflict(`image ${image.id} was modified concurrently (expected version ${expectedVersion})`));
        const next: Image = copyImage({
          ...current,
          title: image.title,
          description: image.description,
          rotation: image.rotation,
          crop: image.crop,
          updatedAt: image.updatedAt,
          version: current.version + 1,
        });
        images.set(next.id, next);
        return E.right(copyImage(next));
      }),

    remove: (tenant, id, completion) =>
      atomically(() => {
        const image = images.get(id);
        if (!image || image.tenant !== tenant) return E.left(imageNotFound(id));
        images.delete(id);
        const blob = blobs.get(image.blob.key);
        if (!blob) throw new Error(`blob ${image.blob.key} of image ${id} is missing`);
        blob.refs -= 1;
        completeIn(idempotency, completion);
        return E.right({ image: copyImage(image), orphanedBlob: blob.refs === 0 ? image.blob.key : null });
      }),

    removeAll: (tenant, ids, scope, completion) =>
      atomically(() => {
        const found = ids.flatMap((id) => {
          const image = images.get(id);
          return image && image.tenant === tenant ? [image] : [];
        });
        const outside = found.find((i) => !inScope(scope, i.albumId));
        if (outside) return E.left(forbidden(`token lacks image_delete on album ${outside.albumId}`));
        const removals: Removal[] = [];
        for (const image of found) {
          images.delete(image.id);
          const blob = blobs.get(image.blob.key);
          if (!blob) throw new Error(`blob ${image.blob.key} of image ${image.id} is missing`);
          blob.refs -= 1;
          removals.push({ image: copyImage(image), orphanedBlob: blob.refs === 0 ? image.blob.key : null });
        }
        completeIn(idempotency, completion?.(removals));
        return E.right(removals);
      }),

    move: (tenant, moves, from, at, completion) =>
      atomically(() => {
        const found = moves.flatMap((m) => {
          const image = images.get(m.id);
          return image && image.tenant === tenant ? [{ image, to: m.to }] : [];
        });
        const outside = found.find(({ image }) => !inScope(from, image.albumId));
        if (outside) return E.left(forbidden(`token lacks image_delete on album ${outside.image.albumId}`));
        const moved = found.map(({ image, to }) => copyImage({ ...inAlbum(image, to), updatedAt: at, version: image.version + 1 }));
        for (const image of moved) images.set(image.id, image);
        completeIn(idempotency, completion?.(moved));
        return E.right(moved.map(copyImage));
      }),

    abandonBlob: (blob) =>
      atomically(() => {
        const held = blobs.get(blob.key);
        if (held && held.refs > 0) return E.right(false);
        if (held) held.reservedAt = null;
        else blobs.set(blob.key, { blob: structuredClone(blob), refs: 0, reservedAt: null });
        return E.right(true);
      }),

    releaseBlob: (key) =>
      atomically(() => {
        if (blobs.get(key)?.refs === 0) blobs.delete(key);
        return E.right(undefined);
      }),

    orphanedBlobs: (reservedBefore) =>
      atomically(() =>
        E.right(
          [...blobs.entries()]
            .filter(([, b]) => b.refs === 0 && (b.reservedAt === null || (reservedBefore !== undefined && b.reservedAt < reservedBefore)))
            .map(([k]) => k)
            .sort(),
        ),
      ),

    blobReferences: (key) => atomically(() => E.right(blobs.get(key)?.refs ?? 0)),
  };
};
