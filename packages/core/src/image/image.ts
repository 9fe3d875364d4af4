import * as E from "fp-ts/lib/Either.js";
import type { AlbumId, BlobKey, ImageId, TenantId } from "../shared/ids.js";
import type { JsonObject } from "../shared/json.js";
import { invalid, type FieldIssue, type Invalid } from "../shared/errors.js";

export type Rotation = 0 | 90 | 180 | 270;
export const ROTATIONS: readonly Rotation[] = [0, 90, 180, 270];
export type LatLon = readonly [number, number];

/** A rectangle in the original image's pixels; `null` on the aggregate means "not cropped". */
export interface Crop {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** The stored bytes. Blobs are immutable and shared by duplicates, so an image only ever points at one. */
export interface BlobRef {
  readonly key: BlobKey;
  readonly format: string;
  readonly contentType: string;
  readonly bytes: number;
  readonly etag: string;
  /** Backend version stamp (Cloudinary's `v…`); part of delivery URLs so a replaced asset never serves stale. */
  readonly version: number;
}

export interface Image {
  readonly id: ImageId;
  /** The issuer whose token created the image; nothing crosses tenants. */
  readonly tenant: TenantId;
  /** `user_id` of the token that created it (uploaded or duplicated); null when unknown. */
  readonly createdBy: string | null;
  readonly albumId: AlbumId;
  /** The image this one was duplicated from (the root of its family), or null for an original upload. */
  readonly groupId: ImageId | null;
  readonly blob: BlobRef;
  readonly originalWidth: number;
  readonly originalHeight: number;
  readonly filename: string;
  readonly infos: JsonObject;
  readonly exifs: JsonObject;
  readonly metadatas: JsonObject;
  /** Position reported by the uploading client (browser geolocation). */
  readonly gpsHtml: LatLon | null;
  readonly gpsIp: LatLon | null;
  readonly gpsExifs: LatLon | null;
  readonly takenAt: Date | null;
  readonly title: string | null;
  readonly description: string | null;
  readonly rotation: Rotation;
  readonly crop: Crop | null;
  readonly color: string;
  readonly processed: boolean;
  readonly processingError: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Optimistic-concurrency counter, bumped by every update. */
  readonly version: number;
}

export const TITLE_MAX = 255;
export const DESCRIPTION_MAX = 10_000;

/** Best position known: camera EXIF, then the client's report, then IP geolocation. */
export const gpsOf = (image: Image): LatLon | null => image.gpsExifs ?? image.gpsHtml ?? image.gpsIp;

/** Size as displayed: the crop if any, turned by the rotation. */
export const displaySize = (image: Image): { width: number; height: number } => {
  const w = image.crop ? image.crop.w : image.originalWidth;
  const h = image.crop ? image.crop.h : image.originalHeight;
  return image.rotation % 180 === 0 ? { width: w, height: h } : { width: h, height: w };
};

/** What an original image is made of, however its bytes arrived; the rest starts at its defaults. */
export interface NewImage {
  readonly id: ImageId;
  readonly tenant: TenantId;
  readonly createdBy: string | null;
  readonly albumId: AlbumId;
  readonly blob: BlobRef;
  readonly width: number;
  readonly height: number;
  readonly filename: string;
  readonly infos: JsonObject;
  readonly exifs: JsonObject;
  readonly metadatas: JsonObject;
  readonly gpsHtml: LatLon | null;
  readonly gpsExifs: LatLon | null;
  readonly takenAt: Date | null;
  readonly title?: string | null | undefined;
  readonly description?: string | null | undefined;
  readonly color: string;
  readonly now: Date;
}

export const newImage = (n: NewImage): Image => ({
  id: n.id,
  tenant: n.tenant,
  createdBy: n.createdBy,
  albumId: n.albumId,
  groupId: null,
  blob: n.blob,
  originalWidth: n.width,
  originalHeight: n.height,
  filename: n.filename,
  infos: n.infos,
  exifs: n.exifs,
  metadatas: n.metadatas,
  gpsHtml: n.gpsHtml,
  gpsIp: null,
  gpsExifs: n.gpsExifs,
  takenAt: n.takenAt,
  title: normalText(n.title) ?? null,
  description: normalText(n.description) ?? null,
  rotation: 0,
  crop: null,
  color: n.color,
  processed: false,
  processingError: null,
  createdAt: n.now,
  updatedAt: n.now,
  version: 1,
});

/**
 * The image as it reads in another album: `infos.tags` mirrors the album (as Cloudinary's tags do), so
 * the old album's tag is replaced by the new one's and any other tag is kept.
 */
export const inAlbum = (image: Image, albumId: AlbumId): Image => {
  if (albumId === image.albumId) return image;
  const tags = image.infos["tags"];
  if (!Array.isArray(tags)) return { ...image, albumId };
  return { ...image, albumId, infos: { ...image.infos, tags: [...new Set(tags.map((t) => (t === image.albumId ? albumId : t)))] } };
};

/** A copy stays in its source's tenant; `albumId` puts it in another album of that tenant. */
export const duplicateOf = (source: Image, id: ImageId, now: Date, createdBy: string | null, albumId: AlbumId = source.albumId): Image => ({
  ...inAlbum(source, albumId),
  id,
  createdBy,
  groupId: source.groupId ?? source.id,
  createdAt: now,
  updatedAt: now,
  version: 1,
});

export interface ImageChanges {
  readonly title?: string | null;
  readonly description?: string | null;
  readonly rotation?: number;
  /** `null` or an all-zero rectangle removes the crop. */
  readonly crop?: Crop | null;
}

const normalText = (s: string | null | undefined): string | null | undefined =>
  s === undefined ? undefined : s === null || s.trim() === "" ? null : s;

export const validateText = (field: string, value: string | null | undefined, max: number): FieldIssue[] =>
  typeof value === "string" && [...value].length > max ? [{ field, message: `must be at most ${max} characters` }] : [];

export const METADATAS_MAX_CHARS = 64 * 1024;

export const validateMetadatas = (metadatas: JsonObject | undefined): FieldIssue[] =>
  metadatas && JSON.stringify(metadatas).length > METADATAS_MAX_CHARS
    ? [{ field: "metadatas", message: `must serialise to at most ${METADATAS_MAX_CHARS} characters` }]
    : [];

export const validateRotation = (rotation: number): FieldIssue[] =>
  ROTATIONS.includes(rotation as Rotation) ? [] : [{ field: "rotation", message: "must be one of 0, 90, 180, 270" }];

export const validateCrop = (crop: Crop, width: number, height: number): FieldIssue[] => {
  const { x, y, w, h } = crop;
  if (![x, y, w, h].every(Number.isFinite)) return [{ field: "crop", message: "values must be finite numbers" }];
  // Sub-pixel precision beyond this is meaningless and would need exponent notation in URLs.
  if (![x, y, w, h].every((v) => Number(v.toFixed(3)) === v)) return [{ field: "crop", message: "values may have at most 3 decimals" }];
  if (x < 0 || y < 0) return [{ field: "crop", message: "crop_x and crop_y must be >= 0" }];
  if (w <= 0 || h <= 0) return [{ field: "crop", message: "crop_w and crop_h must be > 0" }];
  if (x + w > width || y + h > height)
    return [{ field: "crop", message: `crop must lie inside the original ${width}x${height} image` }];
  return [];
};

const isNoCrop = (c: Crop | null): boolean => c === null || (c.x === 0 && c.y === 0 && c.w === 0 && c.h === 0);

/** Applies a caption/rotate/crop change, enforcing the aggregate's invariants; unchanged input yields an equal image. */
export const applyChanges = (image: Image, changes: ImageChanges, now: Date): E.Either<Invalid, Image> => {
  const title = normalText(changes.title);
  const description = normalText(changes.description);
  const crop = changes.crop === undefined ? undefined : isNoCrop(changes.crop) ? null : changes.crop;
  const issues = [
    ...validateText("title", title, TITLE_MAX),
    ...validateText("description", description, DESCRIPTION_MAX),
    ...(changes.rotation === undefined ? [] : validateRotation(changes.rotation)),
    ...(crop ? validateCrop(crop, image.originalWidth, image.originalHeight) : []),
  ];
  if (issues.length > 0) return E.left(invalid(issues));
  return E.right({
    ...image,
    title: title === undefined ? image.title : title,
    description: description === undefined ? image.description : description,
    rotation: changes.rotation === undefined ? image.rotation : (changes.rotation as Rotation),
    crop: crop === undefined ? image.crop : crop,
    updatedAt: now,
  });
};

const sameCrop = (a: Crop | null, b: Crop | null): boolean =>
  a === b || (a !== null && b !== null && a.x === b.x && a.y === b.y && a.w === b.w && a.h === b.h);

/** Which of caption / rotation / crop an update actually changes. */
export const changedAspects = (before: Image, after: Image): { caption: boolean; rotation: boolean; crop: boolean } => ({
  caption: before.title !== after.title || before.description !== after.description,
  rotation: before.rotation !== after.rotation,
  crop: !sameCrop(before.crop, after.crop),
});
