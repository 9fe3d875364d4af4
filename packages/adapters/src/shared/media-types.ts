/** Media types of image formats, by the names blobs are stored under and their common aliases. */
const MEDIA_TYPES: Readonly<Record<string, string>> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  heic: "image/heic",
  heif: "image/heif",
  tif: "image/tiff",
  tiff: "image/tiff",
  bmp: "image/bmp",
  ico: "image/x-icon",
  svg: "image/svg+xml",
  pdf: "application/pdf",
};

/** The media type of a format name in any case, or undefined for a format not listed. */
export const mediaTypeOf = (format: string): string | undefined => {
  const name = format.toLowerCase();
  return Object.hasOwn(MEDIA_TYPES, name) ? MEDIA_TYPES[name] : undefined;
};

/** The formats the API accepts as uploads, by the name stored on the blob. */
export const UPLOAD_FORMATS: readonly string[] = ["jpeg", "png", "gif", "webp", "tiff", "avif", "heic"];
