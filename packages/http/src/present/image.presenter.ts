import { displaySize, gpsOf, renditionOf, VARIANTS, type Image, type LatLon, type UrlSigner, type Variant } from "@image-api/core";
import { float } from "./json.js";

/** Timestamps as the family prints them: milliseconds and an explicit offset (UTC here). */
export const isoWithOffset = (d: Date): string => `${d.toISOString().slice(0, -1)}+00:00`;

const pair = (p: LatLon | null): [number, number] | null => (p ? [p[0], p[1]] : null);

const THUMBNAILS = ["original", "full_no_sharinpix", "full", "large", "mini"] as const satisfies readonly Variant[];
const EXTERNAL = ["fill100", "fit2000", "mini", "large", "full"] as const satisfies readonly Variant[];

/** Signs every delivery URL an image's JSON carries, once per variant. */
export const signAll = async (image: Image, signer: UrlSigner, now: Date): Promise<Record<Variant, string>> => {
  const urls = await Promise.all(
    VARIANTS.map((variant) =>
      signer.sign(
        {
          blobKey: image.blob.key,
          format: image.blob.format,
          version: image.blob.version,
          rendition: renditionOf(image, variant),
          filename: image.filename,
        },
        now,
      )(),
    ),
  );
  return Object.fromEntries(VARIANTS.map((v, i) => [v, urls[i]!])) as Record<Variant, string>;
};

/** The family's image JSON: 35 keys, in the family's order. The only code that knows this shape. */
export const presentImage = async (image: Image, signer: UrlSigner, now: Date): Promise<Record<string, unknown>> => {
  const urls = await signAll(image, signer, now);
  // A fractional crop is rendered at whole pixels (rounded); the family's width/height are integers.
  const size = displaySize(image);
  const width = Math.round(size.width);
  const height = Math.round(size.height);
  const crop = image.crop ?? { x: 0, y: 0, w: 0, h: 0 };
  return {
    id: image.id,
    public_id: image.id,
    infos: image.infos,
    exifs: image.exifs,
    gps: pair(gpsOf(image)),
    gps_ip: pair(image.gpsIp),
    gps_exifs: pair(image.gpsExifs),
    gps_html: pair(image.gpsHtml),
    created_at: isoWithOffset(image.createdAt),
    updated_at: isoWithOffset(image.updatedAt),
    taken_at: image.takenAt ? isoWithOffset(image.takenAt) : null,
    width,
    height,
    rotation: image.rotation,
    crop_x: float(crop.x),
    crop_y: float(crop.y),
    crop_w: float(crop.w),
    crop_h: float(crop.h),
    metadatas: image.metadatas,
    original_url: urls.download,
    original_width: image.originalWidth,
    original_height: image.originalHeight,
    external_urls: Object.fromEntries(EXTERNAL.map((v) => [v, urls[v]])),
    filename: image.filename,
    format: image.blob.format,
    title: image.title,
    description: image.description,
    page: 1,
    group_id: image.groupId,
    color: image.color,
    size: image.blob.bytes,
    processed: image.processed,
    processing_error: image.processingError,
    album_id: image.albumId,
    thumbnails: Object.fromEntries(THUMBNAILS.map((v) => [v, urls[v]])),
  };
};
