import { createHash } from "node:crypto";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { BlobKey, notFound, streamOf, unavailable, type BlobContent, type BlobStore, type NotFound, type Unavailable } from "@image-api/core";
import * as TE from "fp-ts/lib/TaskEither.js";
import { bodyOf, openBlobFile, writeAtomically } from "./blob-file.js";

export interface FilesystemBlobStoreOptions {
  /** Directory holding `blobs/`, `renditions/` and the staging dir `.tmp/`; created on first write. */
  readonly root: string;
}

export interface FilesystemBlobStore extends BlobStore {
  /** Removes temp files a crash left in the staging dir, if older than `olderThan`; answers how many. */
  readonly removeStaleTemporaryFiles: (olderThan: Date) => Promise<number>;
}

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;
const isMissing = (e: unknown): boolean => code(e) === "ENOENT";
// rm retries these itself (ENOTEMPTY: a rendition renamed into the directory while it was being emptied).
const RM_DIR = { recursive: true, force: true, maxRetries: 5, retryDelay: 20 } as const;

class BadKey extends Error {}

/** Keys become path segments: anything but the core's key shape (no dots, no slashes) is refused. */
const checked = (key: string): string => {
  if (!BlobKey.is(key)) throw new BadKey(`invalid blob key ${JSON.stringify(key)}`);
  return key;
};

/**
 * Rendition names hold "/" and ","; base64url makes them one safe file name. Names too long for a
 * file name fall back to their digest.
 */
export const renditionFileName = (name: string): string => {
  const encoded = Buffer.from(name, "utf8").toString("base64url");
  return encoded.length <= 200 ? `r-${encoded}` : `h-${createHash("sha256").update(name).digest("hex")}`;
};

/**
 * Blobs as files: `<root>/blobs/<first two key chars>/<key>` and renditions under
 * `<root>/renditions/<key>/`, a directory made with the blob and removed by its delete. Writes are
 * atomic (temp file + fsync + rename).
 */
export const filesystemBlobStore = ({ root }: FilesystemBlobStoreOptions): FilesystemBlobStore => {
  const blobPath = (key: string) => join(root, "blobs", checked(key).slice(0, 2), key);
  const renditionDir = (key: string) => join(root, "renditions", checked(key));
  const staging = join(root, ".tmp");
  const blobExists = (key: string): Promise<boolean> =>
    stat(blobPath(key)).then(
      (s) => s.isFile(),
      (e: unknown) => {
        if (isMissing(e)) return false;
        throw e;
      },
    );

  const failed = (what: string) => (e: unknown): Unavailable =>
    unavailable(e instanceof BadKey ? e.message : `could not ${what}`, e);

  const read = (path: () => string, missing: string): TE.TaskEither<NotFound | Unavailable, BlobContent> =>
    TE.tryCatch(
      async () => {
        const blob = await openBlobFile(path());
        return { body: bodyOf(blob), bytes: blob.bytes, contentType: blob.contentType };
      },
      (e): NotFound | Unavailable => (isMissing(e) || e instanceof BadKey ? notFound(missing) : unavailable(`could not read ${missing}`, e)),
    );

  return {
    put: (key, body, contentType) =>
      TE.tryCatch(async () => {
        const path = blobPath(key);
        await Promise.all([dirname(path), renditionDir(key), staging].map((dir) => mkdir(dir, { recursive: true })));
        const bytes = await writeAtomically(path, contentType, body, staging);
        return { bytes, version: Math.floor(Date.now() / 1000) };
      }, failed(`store blob ${key}`)),

    get: (key) => read(() => blobPath(key), `blob ${key}`),

    exists: (key) => TE.tryCatch(() => blobExists(key), failed(`check blob ${key}`)),

    delete: (key) =>
      TE.tryCatch(async () => {
        const dir = renditionDir(key);
        // Renditions go first so a crash never leaves renditions of a deleted blob being served;
        // the second pass, after the bytes are gone, catches one a render was writing meanwhile
        // (putRendition undoes any it writes later). A failure is reported, never a half delete as done.
        await rm(dir, RM_DIR);
        await rm(blobPath(key), { force: true });
        await rm(dir, RM_DIR);
      }, failed(`delete blob ${key}`)),

    getRendition: (key, name) => read(() => join(renditionDir(key), renditionFileName(name)), `rendition ${name} of blob ${key}`),

    putRendition: (key, name, body, contentType) =>
      TE.tryCatch(async () => {
        const dir = renditionDir(key);
        const path = join(dir, renditionFileName(name));
        await mkdir(staging, { recursive: true });
        // Into the directory the blob's put made: once a delete has removed it, the rename fails, so a
        // render that finishes after the delete leaves nothing, even if the process dies at that moment.
        try {
          await writeAtomically(path, contentType, streamOf(body), staging);
          return;
        } catch (e) {
          if (!isMissing(e)) throw e;
        }
        // No directory: the blob is gone, or it was written before blobs had one (or a crash came
        // between its directory and its bytes). Only then is one made, and checked for after the rename:
        // either the check still sees the bytes, and the delete's second pass (which runs after they
        // go) removes this file, or it does not, and the file goes here.
        if (!(await blobExists(key))) return;
        await mkdir(dir, { recursive: true });
        await writeAtomically(path, contentType, streamOf(body), staging);
        if (!(await blobExists(key))) await rm(dir, RM_DIR);
      }, failed(`store rendition ${name} of blob ${key}`)),

    removeStaleTemporaryFiles: async (olderThan) => {
      const names = await readdir(staging).catch((e: unknown) => {
        if (isMissing(e)) return [] as string[];
        throw e;
      });
      let removed = 0;
      for (const name of names.filter((n) => n.startsWith(".tmp-"))) {
        const path = join(staging, name);
        const seen = await stat(path).catch(() => undefined);
        if (seen && seen.mtime < olderThan) {
          await rm(path, { force: true });
          removed++;
        }
      }
      return removed;
    },
  };
};
