import type { TaskEither } from "fp-ts/lib/TaskEither.js";
import type { NotFound, Unavailable } from "../shared/errors.js";
import type { BlobKey } from "../shared/ids.js";

/** Bytes as a pull stream; plain ECMAScript so the core needs no Node streams. */
export type ByteStream = AsyncIterable<Uint8Array>;

export interface StoredBlob {
  readonly bytes: number;
  /** Backend version stamp (e.g. Cloudinary's), seconds since the epoch elsewhere. */
  readonly version: number;
}

export interface BlobContent {
  readonly body: ByteStream;
  readonly bytes: number;
  readonly contentType: string;
}

/**
 * Immutable blobs under keys chosen by the caller, plus derived renditions cached beside them.
 * A write is all-or-nothing: a reader never sees a partly written blob.
 */
/** What a blob is for, for backends that can label what they store (Cloudinary tags); others ignore it. */
export interface BlobLabels {
  readonly albumId?: string;
}

export interface BlobStore {
  readonly put: (key: BlobKey, body: ByteStream, contentType: string, labels?: BlobLabels) => TaskEither<Unavailable, StoredBlob>;
  readonly get: (key: BlobKey) => TaskEither<NotFound | Unavailable, BlobContent>;
  readonly exists: (key: BlobKey) => TaskEither<Unavailable, boolean>;
  /** Removes the blob and every rendition cached for it; deleting a missing key succeeds. */
  readonly delete: (key: BlobKey) => TaskEither<Unavailable, void>;
  readonly getRendition: (key: BlobKey, name: string) => TaskEither<NotFound | Unavailable, BlobContent>;
  readonly putRendition: (key: BlobKey, name: string, body: Uint8Array, contentType: string) => TaskEither<Unavailable, void>;
}
