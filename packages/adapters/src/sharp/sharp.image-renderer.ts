import { unavailable, unsupported, type Crop, type ImageRenderer, type Rendered, type Rendition, type Resize } from "@image-api/core";
import * as TE from "fp-ts/lib/TaskEither.js";
import sharp, { type Sharp, type SharpOptions } from "sharp";
import { DEFAULT_MAX_PIXELS, formatOf, NOT_AN_IMAGE } from "./sharp.formats.js";

export interface SharpRendererOptions {
  readonly maxPixels?: number;
  /** JPEG and WebP quality, 1–100. */
  readonly quality?: number;
}

type Output = "jpeg" | "png" | "webp";
const OUTPUTS: Readonly<Record<Output, string>> = { jpeg: "image/jpeg", png: "image/png", webp: "image/webp" };
/** Formats without a matching encoder here (gif, tiff, avif, heic) are delivered as JPEG. */
const outputOf = (format: string): Output => (format === "png" || format === "webp" ? format : "jpeg");

class Refused extends Error {}

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

/** sharp resizes once per pipeline, so each further step starts from the previous step's raw pixels. */
const chain = async (image: Sharp, steps: readonly Resize[], input: SharpOptions): Promise<Sharp> => {
  let current = image;
  for (const [i, step] of steps.entries()) {
    if (step.width === undefined && step.height === undefined) continue;
    if (i > 0) {
      const { data, info } = await current.raw().toBuffer({ resolveWithObject: true });
      current = sharp(data, { ...input, raw: { width: info.width, height: info.height, channels: info.channels } });
    }
    current = current.resize(resizeOptions(step));
  }
  return current;
};

const render = async (original: Uint8Array, r: Rendition, format: string, maxPixels: number, quality: number): Promise<Rendered> => {
  const input: SharpOptions = { limitInputPixels: maxPixels, failOn: "error" };
  const meta = await sharp(original, input)
    .metadata()
    .catch(() => {
      throw new Refused(NOT_AN_IMAGE);
    });
  const { width, height } = meta;
  if (formatOf(meta) === null || !width || !height) throw new Refused(NOT_AN_IMAGE);
  if (width * height > maxPixels) throw new Refused(`image exceeds ${maxPixels} pixels`);

  // No auto-orientation: crops are in stored pixel coordinates, the same ones the inspector reported.
  let image = sharp(original, input);
  if (r.crop) image = image.extract(clampCrop(r.crop, width, height));
  if (r.rotation !== 0) image = image.rotate(r.rotation);
  image = await chain(image, r.resize, input);

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
        (e) => (e instanceof Refused ? unsupported(e.message) : unavailable("could not render the image", e)),
      ),
  };
};
