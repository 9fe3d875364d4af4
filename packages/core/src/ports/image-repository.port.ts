import type { TaskEither } from "fp-ts/lib/TaskEither.js";
import type { BlobRef, Image } from "../image/image.js";
import type { AlbumScope } from "../album/ability.policy.js";
import type { Completion } from "./idempotency.port.js";
import type { SearchOptions } from "../search/plan.js";
import type { SearchQuery } from "../search/query.js";
import type { Conflict, Forbidden, NotFound, Unavailable } from "../shared/errors.js";
import type { AlbumId, BlobKey, ImageId, TenantId } from "../shared/ids.js";

export interface PageRequest {
  readonly offset: number;
  readonly limit: number;
}

/** A place in the newest-first order of a listing (created_at, then id, descending). */
export interface ListingPosition {
  readonly createdAt: Date;
  readonly id: ImageId;
}

/**
 * A page of an album, by offset or from a position (keyset). With `after`, only images older than it
 * count; with `before`, only images newer than it, and the page is the `limit` of them nearest to it
 * (still listed newest first). `offset` then counts from the position, so images added or removed on
 * the far side of it do not shift the page.
 */
export interface AlbumPageRequest extends PageRequest {
  readonly after?: ListingPosition;
  readonly before?: ListingPosition;
}

export interface ImagePage {
  readonly items: readonly Image[];
  readonly total: number;
}

export interface Move {
  readonly id: ImageId;
  readonly to: AlbumId;
}

/** Result of removing an image: the blob it leaves without any image, if it was the last reference. */
export interface Removal {
  readonly image: Image;
  readonly orphanedBlob: BlobKey | null;
}

/**
 * Images and the reference counts of the blobs they point at. Every function is one atomic unit:
 * it either happens whole or not at all. A write given a `completion` stores it (see
 * IdempotencyStore) in the same unit, and only when it succeeds.
 */
export interface ImageRepository {
  /** An image of `tenant`; another tenant's image is as unknown as a missing one. */
  readonly findById: (tenant: TenantId, id: ImageId) => TaskEither<NotFound | Unavailable, Image>;
  /** Newest first (created_at, then id, descending); `total` counts the whole album, in the same snapshot as the page. */
  readonly listByAlbum: (tenant: TenantId, albumId: AlbumId, page: AlbumPageRequest) => TaskEither<Unavailable, ImagePage>;
  /**
   * Images of `tenant` in `scope` that match `query`, newest first (created_at, then id, descending).
   * Sees every committed write: no separate indexing step.
   */
  readonly search: (
    tenant: TenantId,
    scope: AlbumScope,
    query: SearchQuery,
    options: SearchOptions,
    page: PageRequest,
  ) => TaskEither<Unavailable, ImagePage>;
  /**
   * Records a blob whose bytes are about to be written, with zero references. Written before the bytes,
   * so bytes never exist without a record: an upload that dies half-way leaves a reservation that
   * `orphanedBlobs` reports once it is older than the grace period.
   */
  readonly reserveBlob: (blob: BlobRef, at: Date) => TaskEither<Conflict | Unavailable, void>;
  /**
   * Stores an image whose blob is new, or reserved: the blob's reference count becomes 1 and the
   * reservation ends. Conflict when the id exists or the blob is already held.
   */
  readonly insert: (image: Image, completion?: Completion) => TaskEither<Conflict | Unavailable, void>;
  /**
   * Stores `copy`, which shares the blob of `sourceId`, and counts the new reference. Holds the source
   * while doing so: if the source is gone (deleted concurrently) or belongs to another tenant than
   * `copy.tenant`, nothing is written and NotFound returns.
   */
  readonly insertCopy: (sourceId: ImageId, copy: Image, completion?: Completion) => TaskEither<NotFound | Conflict | Unavailable, void>;
  /**
   * The duplicate in one step: stores a copy of `sourceId` (same album, `group_id` set, new id, creator
   * and time) only when the source is an image of `tenant` whose album lies in `scope`, and returns it.
   * NotFound when the tenant has no such image (or it was deleted meanwhile), Forbidden when its album
   * lies outside `scope` (nothing is written either way).
   */
  readonly duplicate: (
    tenant: TenantId,
    sourceId: ImageId,
    scope: AlbumScope,
    copy: { readonly id: ImageId; readonly createdBy: string | null; readonly createdAt: Date },
  ) => TaskEither<NotFound | Forbidden | Conflict | Unavailable, Image>;
  /** Replaces the mutable fields when the stored version (of `image.tenant`) is still `expectedVersion`; bumps the version. */
  readonly update: (image: Image, expectedVersion: number) => TaskEither<NotFound | Conflict | Unavailable, Image>;
  /** Deletes the image and drops its blob reference; a blob reaching zero is reported and awaits `releaseBlob`. */
  readonly remove: (tenant: TenantId, id: ImageId, completion?: Completion) => TaskEither<NotFound | Unavailable, Removal>;
  /**
   * Deletes, in one transaction, those of `ids` that exist in `tenant` (the others are skipped), or
   * none of them when one lies outside `scope` (Forbidden). Removals come in no particular order; a
   * blob left without images is reported once.
   */
  readonly removeAll: (
    tenant: TenantId,
    ids: readonly ImageId[],
    scope: AlbumScope,
    completion?: (removals: readonly Removal[]) => Completion,
  ) => TaskEither<Forbidden | Unavailable, readonly Removal[]>;
  /**
   * Moves, in one transaction, those of the images that exist in `tenant` to their destination album
   * (the image as `inAlbum` describes it, `updatedAt` = `at`, version bumped), or none when one's
   * current album lies outside `from` (Forbidden). Returns the moved images; the others are skipped.
   */
  readonly move: (
    tenant: TenantId,
    moves: readonly Move[],
    from: AlbumScope,
    at: Date,
    completion?: (moved: readonly Image[]) => Completion,
  ) => TaskEither<Forbidden | Unavailable, readonly Image[]>;
  /**
   * After an `insert` whose outcome is unknown (the connection failed around COMMIT): turns the blob's
   * reservation into a plain zero-reference record (or records one) unless an image holds it. Waits
   * for a still-pending insert of the same key, so true means no image can reference the blob and its
   * bytes may go; false means the insert did commit.
   */
  readonly abandonBlob: (blob: BlobRef) => TaskEither<Unavailable, boolean>;
  /** Forgets a zero-reference blob once its bytes are gone. */
  readonly releaseBlob: (key: BlobKey) => TaskEither<Unavailable, void>;
  /**
   * Zero-reference blobs whose bytes may still exist (a crash between `remove` and `releaseBlob`), plus
   * reservations made before `reservedBefore` (uploads that never finished); without it, no reservation.
   */
  readonly orphanedBlobs: (reservedBefore?: Date) => TaskEither<Unavailable, readonly BlobKey[]>;
  /** Live reference count of a blob (0 when unknown); for checks and tests. */
  readonly blobReferences: (key: BlobKey) => TaskEither<Unavailable, number>;
}
