import { BlobKey, collect, notFound, unavailable, type BlobContent, type BlobStore, type Clock } from "@image-api/core";
import * as TE from "fp-ts/lib/TaskEither.js";

interface Stored {
  readonly bytes: Uint8Array;
  readonly contentType: string;
}

export interface MemoryBlobStoreOptions {
  /** Source of the version stamp (seconds since the epoch). */
  readonly clock?: Clock;
}

const CHUNK = 64 * 1024;

async function* chunksOf(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  // Copies, so a reader mutating its chunk cannot change the stored blob.
  for (let at = 0; at < bytes.byteLength; at += CHUNK) yield bytes.slice(at, at + CHUNK);
}

const content = (s: Stored): BlobContent => ({ body: chunksOf(s.bytes), bytes: s.bytes.byteLength, contentType: s.contentType });

/** Blobs in a Map, for tests and embedding; a blob is only published once its whole body has been read. */
export const memoryBlobStore = (options: MemoryBlobStoreOptions = {}): BlobStore => {
  const blobs = new Map<string, Stored>();
  const renditions = new Map<string, Map<string, Stored>>();
  const now = () => (options.clock ? options.clock.now() : new Date());
  const badKey = (key: string) => unavailable(`invalid blob key ${JSON.stringify(key)}`);

  return {
    put: (key, body, contentType) => {
      if (!BlobKey.is(key)) return TE.left(badKey(key));
      return TE.tryCatch(
        async () => {
          const bytes = await collect(body);
          blobs.set(key, { bytes, contentType });
          return { bytes: bytes.byteLength, version: Math.floor(now().getTime() / 1000) };
        },
        (e) => unavailable(`could not store blob ${key}`, e),
      );
    },
    get: (key) => {
      const s = blobs.get(key);
      return s ? TE.right(content(s)) : TE.left(notFound(`blob ${key}`));
    },
    exists: (key) => TE.right(blobs.has(key)),
    delete: (key) =>
      TE.fromIO(() => {
        blobs.delete(key);
        renditions.delete(key);
      }),
    getRendition: (key, name) => {
      const s = renditions.get(key)?.get(name);
      return s ? TE.right(content(s)) : TE.left(notFound(`rendition ${name} of blob ${key}`));
    },
    putRendition: (key, name, body, contentType) => {
      if (!BlobKey.is(key)) return TE.left(badKey(key));
      return TE.fromIO(() => {
        // A render finishing after its blob was deleted keeps nothing.
        if (!blobs.has(key)) return;
        const forKey = renditions.get(key) ?? new Map<string, Stored>();
        forKey.set(name, { bytes: body.slice(), contentType });
        renditions.set(key, forKey);
      });
    },
  };
};
