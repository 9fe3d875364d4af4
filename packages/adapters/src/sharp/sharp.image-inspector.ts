import { createHash } from "node:crypto";
import { unavailable, unsupported, type ImageInspector, type Inspection } from "@image-api/core";
import * as TE from "fp-ts/lib/TaskEither.js";
import sharp from "sharp";
import { mediaTypeOf } from "../shared/media-types.js";
import { exifDate, exifGps, parseExif } from "./exif.parser.js";
import { decodeOptions, DEFAULT_MAX_PIXELS, NOT_AN_IMAGE, NotAnImage, probe } from "./sharp.formats.js";

export interface SharpInspectorOptions {
  /** Images with more pixels are refused as Unsupported. */
  readonly maxPixels?: number;
}

/** The average is taken on a bounded thumbnail: exact for flat colours, close enough otherwise, cheap for huge images. */
const COLOR_SAMPLE = 512;

const hex2 = (n: number): string => Math.min(255, Math.max(0, Math.round(n))).toString(16).padStart(2, "0").toUpperCase();

const averageColor = async (bytes: Uint8Array, maxPixels: number): Promise<string> => {
  const { data, info } = await sharp(bytes, decodeOptions(maxPixels))
    .resize({ width: COLOR_SAMPLE, height: COLOR_SAMPLE, fit: "inside", withoutEnlargement: true })
    .toColourspace("srgb")
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const channels = info.channels;
  const sums = [0, 0, 0];
  const pixels = info.width * info.height;
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) sums[c]! += data[p * channels + Math.min(c, channels - 1)]!;
  }
  return `#${sums.map((s) => hex2(s / pixels)).join("")}`;
};

const inspect = async (bytes: Uint8Array, maxPixels: number): Promise<Inspection> => {
  const { meta, format, width, height } = await probe(bytes, maxPixels);
  // Decoding every pixel also proves the file is whole, not just its header.
  const color = await averageColor(bytes, maxPixels).catch(() => {
    throw new NotAnImage(NOT_AN_IMAGE);
  });
  const exifs = parseExif(meta.exif);
  return {
    format,
    contentType: mediaTypeOf(format)!,
    // Stored pixel dimensions: renditions crop and rotate in these coordinates, EXIF orientation is not applied.
    width,
    height,
    etag: createHash("md5").update(bytes).digest("hex"),
    color,
    exifs,
    takenAt: exifDate(exifs.DateTimeOriginal),
    gps: exifGps(exifs),
  };
};

/** Reads format, size, average colour and EXIF with sharp (libvips). */
export const sharpImageInspector = (options: SharpInspectorOptions = {}): ImageInspector => {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  return {
    inspect: (bytes) =>
      TE.tryCatch(
        () => inspect(bytes, maxPixels),
        (e) => (e instanceof NotAnImage ? unsupported(e.message) : unavailable("could not inspect the image", e)),
      ),
  };
};
