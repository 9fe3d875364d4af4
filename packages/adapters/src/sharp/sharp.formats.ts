import sharp, { type Metadata } from "sharp";
import { UPLOAD_FORMATS } from "../shared/media-types.js";

/** sharp reports AVIF and HEIC both as `heif`; the compression tells them apart. SVG and the rest are refused. */
const formatOf = (meta: Metadata): string | null => {
  if (meta.format === "heif") return meta.compression === "av1" ? "avif" : meta.compression === "hevc" ? "heic" : null;
  const f = meta.format as string | undefined;
  return f !== undefined && UPLOAD_FORMATS.includes(f) ? f : null;
};

/** Decompression-bomb guard: 100 megapixels covers any camera while bounding decode memory. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

export const NOT_AN_IMAGE = "file is not a supported image";

/** Bytes that are not an accepted image, or one too large to decode: the caller's Unsupported. */
export class NotAnImage extends Error {}

/** The decoding limits every sharp pipeline here runs with. */
export const decodeOptions = (maxPixels: number) => ({ limitInputPixels: maxPixels, failOn: "error" as const });

/** Header-only read; async throughout because sharp's constructor throws synchronously on empty input. */
const readMetadata = async (bytes: Uint8Array, maxPixels: number): Promise<Metadata> => sharp(bytes, decodeOptions(maxPixels)).metadata();

/** Checks the header describes an accepted format within `maxPixels`; throws NotAnImage otherwise. */
export const probe = async (bytes: Uint8Array, maxPixels: number): Promise<{ meta: Metadata; format: string; width: number; height: number }> => {
  const meta = await readMetadata(bytes, maxPixels).catch(() => {
    throw new NotAnImage(NOT_AN_IMAGE);
  });
  const format = formatOf(meta);
  const { width, height } = meta;
  if (format === null || !width || !height) throw new NotAnImage(NOT_AN_IMAGE);
  if (width * height > maxPixels) throw new NotAnImage(`image exceeds ${maxPixels} pixels`);
  return { meta, format, width, height };
};
