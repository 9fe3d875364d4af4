import { renditionOf, VARIANTS, type Crop, type Rendition, type Resize, type Rotation } from "@image-api/core";

/** Client-hint delivery the family asks of every thumbnail except the raw download. */
const AUTO_DELIVERY = "dpr_auto,q_auto,f_auto";

const resizeStep = (s: Resize): string =>
  [`c_${s.mode}`, s.height === undefined ? null : `h_${s.height}`, s.width === undefined ? null : `w_${s.width}`]
    .filter((p): p is string => p !== null)
    .join(",");

const cropStep = (c: Crop): string => `c_crop,h_${c.h},w_${c.w},x_${c.x},y_${c.y}`;

/**
 * The Cloudinary transformation of a rendition, in the family's exact shape: thumbnails (the
 * attachment variants) are bounded to 1920 px first and edited after, while `external_urls` are
 * edited first; crop always comes before the angle.
 */
export const transformationOf = (r: Rendition): string => {
  const edits = [r.crop ? cropStep(r.crop) : null, r.rotation === 0 ? null : `a_${r.rotation}`].filter((s): s is string => s !== null);
  const resize = r.resize.map(resizeStep);
  const editsAt = r.attachment && resize.length > 0 ? 1 : 0;
  const steps = [...resize.slice(0, editsAt), ...edits, ...resize.slice(editsAt)];
  if (r.attachment) steps.push("fl_attachment");
  if (r.attachment && r.variant !== "download") steps.push(AUTO_DELIVERY);
  return steps.join("/");
};

const NUM = String.raw`(\d+(?:\.\d+)?)`;
const CROP_STEP = new RegExp(`^c_crop,h_${NUM},w_${NUM},x_${NUM},y_${NUM}$`);
const ANGLE_STEP = /^a_(90|180|270)$/;

/**
 * Inverse of `transformationOf`: reads the edits the string carries, then accepts it only if one
 * variant renders to exactly this string. `full` and `full_no_sharinpix` coincide when there are no
 * edits; the first in `VARIANTS` order wins, and both describe the same bytes.
 */
export const renditionOfTransformation = (transformation: string): Rendition | null => {
  let crop: Crop | null = null;
  let rotation: Rotation = 0;
  for (const step of transformation.split("/")) {
    const c = CROP_STEP.exec(step);
    if (c) crop = { h: Number(c[1]), w: Number(c[2]), x: Number(c[3]), y: Number(c[4]) };
    const a = ANGLE_STEP.exec(step);
    if (a) rotation = Number(a[1]) as Rotation;
  }
  for (const variant of VARIANTS) {
    const rendition = renditionOf({ crop, rotation }, variant);
    if (transformationOf(rendition) === transformation) return rendition;
  }
  return null;
};
