import type { Crop, Image } from "./image.js";
import { renditionOf, type Resize, type Variant } from "./rendition.js";

export interface PixelSize {
  readonly width: number;
  readonly height: number;
}

/** A crop as it is cut: whole pixels, inside the image whatever was stored. */
const croppedSize = (c: Crop, width: number, height: number): PixelSize => {
  const left = Math.min(Math.max(0, Math.round(c.x)), width - 1);
  const top = Math.min(Math.max(0, Math.round(c.y)), height - 1);
  return {
    width: Math.min(Math.max(1, Math.round(c.w)), width - left),
    height: Math.min(Math.max(1, Math.round(c.h)), height - top),
  };
};

/**
 * One resize step. `fit` scales to the largest size inside the box, `fill` covers the box and is cut
 * to it; both scale up as well as down, and never to less than one pixel on an axis.
 */
const resized = (size: PixelSize, step: Resize): PixelSize => {
  if (step.width === undefined && step.height === undefined) return size;
  const h = step.width === undefined ? null : size.width / step.width;
  const v = step.height === undefined ? null : size.height / step.height;
  const pick = step.mode === "fit" ? Math.max : Math.min;
  const shrink = h !== null && v !== null ? pick(h, v) : (h ?? v)!;
  const scaled = {
    width: Math.max(1, Math.round(size.width / Math.min(shrink, size.width))),
    height: Math.max(1, Math.round(size.height / Math.min(shrink, size.height))),
  };
  return step.mode === "fill"
    ? { width: Math.min(scaled.width, step.width ?? scaled.width), height: Math.min(scaled.height, step.height ?? scaled.height) }
    : scaled;
};

/**
 * The pixel size a variant of the image is delivered at: its rendition's crop, rotation and resize
 * steps applied, in that order, to the original's size.
 */
export const renditionSize = (image: Pick<Image, "crop" | "rotation" | "originalWidth" | "originalHeight">, variant: Variant): PixelSize => {
  const r = renditionOf(image, variant);
  const cut = r.crop ? croppedSize(r.crop, image.originalWidth, image.originalHeight) : { width: image.originalWidth, height: image.originalHeight };
  const turned = r.rotation % 180 === 0 ? cut : { width: cut.height, height: cut.width };
  return r.resize.reduce(resized, turned);
};
