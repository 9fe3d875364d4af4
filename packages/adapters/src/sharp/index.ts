export * from "./sharp.image-inspector.js";
export * from "./sharp.image-renderer.js";
export { parseExif, exifDate, exifGps } from "./exif.parser.js";
