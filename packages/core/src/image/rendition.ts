import type { Crop, Image, Rotation } from "./image.js";

/**
 * The deliverable forms of an image, named after the family's URL slots. `download` is `original_url`
 * (the untouched bytes as an attachment); the rest are the `thumbnails` / `external_urls` entries.
 */
export const VARIANTS = ["download", "original", "full_no_sharinpix", "full", "large", "mini", "fill100", "fit2000"] as const;
export type Variant = (typeof VARIANTS)[number];

export interface Resize {
  readonly mode: "fit" | "fill";
  readonly width?: number;
  readonly height?: number;
}

/** What to do to the original bytes, in this order: crop (original pixels), rotate, then each resize step. */
export interface Rendition {
  readonly variant: Variant;
  readonly crop: Crop | null;
  readonly rotation: Rotation;
  readonly resize: readonly Resize[];
  readonly attachment: boolean;
}

const FIT_1920: Resize = { mode: "fit", width: 1920, height: 1920 };

const SPECS: Record<Variant, { edits: boolean; resize: readonly Resize[]; attachment: boolean }> = {
  download: { edits: false, resize: [], attachment: true },
  original: { edits: false, resize: [], attachment: true },
  full_no_sharinpix: { edits: false, resize: [FIT_1920], attachment: true },
  full: { edits: true, resize: [FIT_1920], attachment: true },
  large: { edits: true, resize: [FIT_1920, { mode: "fill", width: 200, height: 200 }], attachment: true },
  mini: { edits: true, resize: [FIT_1920, { mode: "fill", width: 100, height: 100 }], attachment: true },
  fill100: { edits: true, resize: [{ mode: "fit", width: 300 }], attachment: false },
  fit2000: { edits: true, resize: [{ mode: "fit", width: 2000, height: 2000 }], attachment: false },
};

export const renditionOf = (image: Pick<Image, "crop" | "rotation">, variant: Variant): Rendition => {
  const spec = SPECS[variant];
  return {
    variant,
    crop: spec.edits ? image.crop : null,
    rotation: spec.edits ? image.rotation : 0,
    resize: spec.resize,
    attachment: spec.attachment,
  };
};

/** True when the rendition is the stored bytes as they are (no decoding needed). */
export const isPassThrough = (r: Rendition): boolean => r.crop === null && r.rotation === 0 && r.resize.length === 0;

/**
 * A canonical, Cloudinary-flavoured name for a rendition's edits; equal renditions get equal names,
 * so it serves as a cache key and as the transformation part of self-served URLs.
 */
export const renditionName = (r: Rendition): string => {
  // Built by concatenation: every signed delivery URL names its rendition, eight for each image shown.
  let name = "";
  const step = (s: string): void => void (name = name === "" ? s : `${name}/${s}`);
  if (r.crop) step(`c_crop,h_${r.crop.h},w_${r.crop.w},x_${r.crop.x},y_${r.crop.y}`);
  if (r.rotation !== 0) step(`a_${r.rotation}`);
  for (const s of r.resize) step(`c_${s.mode}${s.height === undefined ? "" : `,h_${s.height}`}${s.width === undefined ? "" : `,w_${s.width}`}`);
  if (r.attachment) step("fl_attachment");
  return name === "" ? "raw" : name;
};

const STEP = /^(?:c_crop,h_(\d+(?:\.\d+)?),w_(\d+(?:\.\d+)?),x_(\d+(?:\.\d+)?),y_(\d+(?:\.\d+)?)|a_(90|180|270)|c_(fit|fill)((?:,[hw]_\d+)+)|fl_attachment)$/;

/** Inverse of `renditionName`; null for anything `renditionName` would not have produced. */
export const parseRenditionName = (variant: Variant, name: string): Rendition | null => {
  let crop: Crop | null = null;
  let rotation: Rotation = 0;
  const resize: Resize[] = [];
  let attachment = false;
  if (name !== "raw") {
    for (const step of name.split("/")) {
      const m = STEP.exec(step);
      if (!m) return null;
      if (m[1] !== undefined) crop = { h: Number(m[1]), w: Number(m[2]), x: Number(m[3]), y: Number(m[4]) };
      else if (m[5] !== undefined) rotation = Number(m[5]) as Rotation;
      else if (m[6] !== undefined) {
        const dims = Object.fromEntries(m[7]!.slice(1).split(",").map((d) => [d[0], Number(d.slice(2))]));
        resize.push({ mode: m[6] as "fit" | "fill", ...(dims.w === undefined ? {} : { width: dims.w }), ...(dims.h === undefined ? {} : { height: dims.h }) });
      } else attachment = true;
    }
  }
  const rendition: Rendition = { variant, crop, rotation, resize, attachment };
  return renditionName(rendition) === name ? rendition : null;
};
