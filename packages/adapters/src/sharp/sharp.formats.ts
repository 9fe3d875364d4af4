import sharp, { type Metadata, type SharpOptions } from "sharp";
import { UPLOAD_FORMATS } from "../shared/media-types.js";

/** sharp reports AVIF and HEIC both as `heif`; the compression tells them apart. SVG and the rest are refused. */
export const formatOf = (meta: Metadata): string | null => {
  if (meta.format === "heif") return meta.compression === "av1" ? "avif" : meta.compression === "hevc" ? "heic" : null;
  const f = meta.format as string | undefined;
  return f !== undefined && UPLOAD_FORMATS.includes(f) ? f : null;
};

/** Decompression-bomb guard: 100 megapixels covers any camera while bounding decode memory. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

export const NOT_AN_IMAGE = "file is not a supported image";

/** Header-only read; async throughout because sharp's constructor throws synchronously on empty input. */
export const readMetadata = async (bytes: Uint8Array, options: SharpOptions): Promise<Metadata> => sharp(bytes, options).metadata();
