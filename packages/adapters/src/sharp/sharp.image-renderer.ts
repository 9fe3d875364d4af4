import { unavailable, unsupported, type Crop, type ImageRenderer, type Rendered, type Rendition, type Resize } from "@image-api/core";
import * as TE from "fp-ts/lib/TaskEither.js";
import sharp, { type Sharp, type SharpOptions } from "sharp";
import { decodeOptions, DEFAULT_MAX_PIXELS, NotAnImage, probe } from "./sharp.formats.js";

export interface SharpRendererOptions {
  readonly maxPixels?: number;
  /** JPEG and WebP quality, 1–100. */
  readonly quality?: number;
}

type Output = "jpeg" | "png" | "webp";
const OUTPUTS: Readonly<Record<Output, string>> = { jpeg: "image/jpeg", png: "image/png", webp: "image/webp" };
/** Formats without a matching encoder here (gif, tiff, avif, heic) are delivered as JPEG. */
const outputOf = (format: string): Output => (format === "png" || format === "webp" ? format : "jpeg");

/** The crop in whole pixels, kept inside the image whatever was stored. */
export const clampCrop = (c: Crop, width: number, height: number) => {
  const left = Math.min(Math.max(0, Math.round(c.x)), width - 1);
  const top = Math.min(Math.max(0, Math.round(c.y)), height - 1);
  return {
    left,
    top,
    width: Math.min(Math.max(1, Math.round(c.w)), width - left),
    height: Math.min(Math.max(1, Math.round(c.h)), height - top),
  };
};

const resizeOptions = (s: Resize) => ({
  ...(s.width === undefined ? {} : { width: s.width }),
  ...(s.height === undefined ? {} : { height: s.height }),
  fit: s.mode === "fill" ? ("cover" as const) : ("inside" as const),
});

/** Decoded pixels as a new pipeline's input: sharp resizes once per pipeline, so each further step starts here. */
const materialise = async (image: Sharp, input: SharpOptions): Promise<Sharp> => {
  const { data, info } = await image.toColourspace("srgb").raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  return sharp(data, { ...input, raw: { width: info.width, height: info.height, channels: info.channels } });
};

/** The same box seen from a quarter turn away. */
const swapAxes = (s: Resize): Resize => ({
  mode: s.mode,
  ...(s.height === undefined ? {} : { width: s.height }),
  ...(s.width === undefined ? {} : { height: s.width }),
});

/** Crop, then turn, then each resize step, in stored pixel coordinates. */
const pipeline = async (original: Uint8Array, r: Rendition, width: number, height: number, input: SharpOptions): Promise<Sharp> => {
  let image = sharp(original, input);
  if (r.crop) image = image.extract(clampCrop(r.crop, width, height));
  const [first, ...rest] = r.resize.filter((s) => s.width !== undefined || s.height !== undefined);
  if (first === undefined) return r.rotation === 0 ? image : image.rotate(r.rotation);
  // sharp mis-sizes extract + rotate + resize in one pipeline; resizing first, on swapped axes for a
  // quarter turn, gives the same pixels and turns a small image instead of the original.
  image = image.resize(resizeOptions(r.rotation % 180 === 0 ? first : swapAxes(first)));
  if (r.rotation !== 0) image = (await materialise(image, input)).rotate(r.rotation);
  for (const step of rest) image = (await materialise(image, input)).resize(resizeOptions(step));
  return image;
};

const render = async (original: Uint8Array, r: Rendition, format: string, maxPixels: number, quality: number): Promise<Rendered> => {
  const { width, height } = await probe(original, maxPixels);
  // No auto-orientation: crops are in stored pixel coordinates, the same ones the inspector reported.
  let image = await pipeline(original, r, width, height, decodeOptions(maxPixels));

  const out = outputOf(format);
  if (out === "jpeg") image = image.flatten({ background: "#FFFFFF" }).jpeg({ quality, mozjpeg: false });
  else if (out === "webp") image = image.webp({ quality });
  else image = image.png();
  const bytes = await image.toBuffer();
  return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), contentType: OUTPUTS[out] };
};

/** Crops, rotates and resizes with sharp (libvips), encoding in the original's format where it can. */
export const sharpImageRenderer = (options: SharpRendererOptions = {}): ImageRenderer => {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const quality = options.quality ?? 85;
  return {
    render: (original, rendition, format) =>
      TE.tryCatch(
        () => render(original, rendition, format, maxPixels, quality),
        (e) => (e instanceof NotAnImage ? unsupported(e.message) : unavailable("could not render the image", e)),
      ),
  };
};
