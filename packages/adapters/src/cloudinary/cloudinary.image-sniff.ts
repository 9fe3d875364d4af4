/** Bytes needed to recognise every format below. */
export const SNIFF_BYTES = 16;

const ascii = (b: Uint8Array, from: number, to: number): string => String.fromCharCode(...b.subarray(from, to));

const ISO_BMFF_IMAGE_BRANDS = new Set(["avif", "avis", "heic", "heix", "hevc", "hevx", "mif1", "msf1"]);

/**
 * Whether the first bytes announce one of the formats the API accepts (JPEG, PNG, GIF, WebP, TIFF,
 * AVIF, HEIC). Cloudinary refuses anything else as an `image` asset, so the store keeps it as `raw`.
 */
export const looksLikeImage = (b: Uint8Array): boolean => {
  if (b.byteLength < 12) return false;
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return true;
  if (ascii(b, 0, 8) === "\x89PNG\r\n\x1a\n") return true;
  if (ascii(b, 0, 6) === "GIF87a" || ascii(b, 0, 6) === "GIF89a") return true;
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP") return true;
  if (ascii(b, 0, 4) === "II*\0" || ascii(b, 0, 4) === "MM\0*") return true;
  return ascii(b, 4, 8) === "ftyp" && ISO_BMFF_IMAGE_BRANDS.has(ascii(b, 8, 12));
};
