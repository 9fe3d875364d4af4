import type { JsonObject, JsonValue, LatLon } from "@image-api/core";
import { EXIF_IFD_POINTER, EXIF_TAGS, GPS_IFD_POINTER, GPS_TAGS, IFD0_TAGS, INTEROP_IFD_POINTER, SKIPPED_TAGS } from "./exif.tags.js";

/** Bounds that keep a hostile EXIF block from producing a huge or slow JSON document. */
const MAX_ENTRIES = 256;
const MAX_STRING = 1024;
const MAX_ARRAY = 64;

const TYPE_SIZES: Readonly<Record<number, number>> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8 };
const TYPE_ASCII = 2;
const TYPE_UNDEFINED = 7;
const CHARSET_PREFIXED = new Set([0x9286 /* UserComment */, 0x001b /* GPSProcessingMethod */]);

// jsonb refuses \u0000 and other controls only make noise.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
const cleanText = (s: string): string => s.replace(CONTROLS, "").trim().slice(0, MAX_STRING);

class Tiff {
  constructor(
    private readonly view: DataView,
    readonly little: boolean,
  ) {}
  get length(): number {
    return this.view.byteLength;
  }
  u8 = (at: number) => this.view.getUint8(at);
  u16 = (at: number) => this.view.getUint16(at, this.little);
  u32 = (at: number) => this.view.getUint32(at, this.little);
  bytes = (at: number, n: number) => new Uint8Array(this.view.buffer, this.view.byteOffset + at, n);
  number(type: number, at: number): number | null {
    switch (type) {
      case 1:
      case 7:
        return this.view.getUint8(at);
      case 6:
        return this.view.getInt8(at);
      case 3:
        return this.u16(at);
      case 8:
        return this.view.getInt16(at, this.little);
      case 4:
        return this.u32(at);
      case 9:
        return this.view.getInt32(at, this.little);
      case 5: {
        const den = this.u32(at + 4);
        return den === 0 ? null : this.u32(at) / den;
      }
      case 10: {
        const den = this.view.getInt32(at + 4, this.little);
        return den === 0 ? null : this.view.getInt32(at, this.little) / den;
      }
      case 11:
        return this.view.getFloat32(at, this.little);
      case 12:
        return this.view.getFloat64(at, this.little);
      default:
        return null;
    }
  }
}

const printable = (b: Uint8Array): boolean => b.every((c) => c === 0 || (c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a || c === 0x0d);

const charsetText = (tiff: Tiff, b: Uint8Array): string | null => {
  if (b.length < 8) return null;
  const charset = new TextDecoder("latin1").decode(b.subarray(0, 8)).replace(/\0+$/, "");
  const body = b.subarray(8);
  if (charset === "ASCII" || charset === "") return cleanText(new TextDecoder("utf-8").decode(body));
  if (charset === "UNICODE") return cleanText(new TextDecoder(tiff.little ? "utf-16le" : "utf-16be").decode(body));
  return null;
};

const valueOf = (tiff: Tiff, tag: number, type: number, count: number, at: number): JsonValue | undefined => {
  if (type === TYPE_ASCII) return cleanText(new TextDecoder("utf-8").decode(tiff.bytes(at, count)));
  if (type === TYPE_UNDEFINED) {
    const b = tiff.bytes(at, count);
    if (CHARSET_PREFIXED.has(tag)) return charsetText(tiff, b) ?? undefined;
    if (printable(b) && b.some((c) => c !== 0)) return cleanText(new TextDecoder("latin1").decode(b));
  }
  if (count > MAX_ARRAY) return undefined;
  const size = TYPE_SIZES[type]!;
  const values: JsonValue[] = [];
  for (let i = 0; i < count; i++) {
    const n = tiff.number(type, at + i * size);
    values.push(n !== null && Number.isFinite(n) ? n : null);
  }
  return values.length === 1 ? values[0] : values;
};

interface Ifd {
  readonly entries: Map<number, JsonValue>;
  readonly pointers: Map<number, number>;
}

const readIfd = (tiff: Tiff, offset: number): Ifd => {
  const entries = new Map<number, JsonValue>();
  const pointers = new Map<number, number>();
  if (offset < 8 || offset + 2 > tiff.length) return { entries, pointers };
  const n = Math.min(tiff.u16(offset), MAX_ENTRIES);
  for (let i = 0; i < n; i++) {
    const e = offset + 2 + i * 12;
    if (e + 12 > tiff.length) break;
    const tag = tiff.u16(e);
    const type = tiff.u16(e + 2);
    const count = tiff.u32(e + 4);
    const size = TYPE_SIZES[type];
    if (size === undefined || count === 0) continue;
    const total = size * count;
    const at = total <= 4 ? e + 8 : tiff.u32(e + 8);
    if (at + total > tiff.length) continue;
    if (tag === EXIF_IFD_POINTER || tag === GPS_IFD_POINTER || tag === INTEROP_IFD_POINTER) {
      pointers.set(tag, tiff.u32(e + 8));
      continue;
    }
    if (SKIPPED_TAGS.has(tag)) continue;
    const value = valueOf(tiff, tag, type, count, at);
    if (value !== undefined && value !== "") entries.set(tag, value);
  }
  return { entries, pointers };
};

const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0", as JPEG APP1 and libvips carry it

const openTiff = (raw: Uint8Array): Tiff | null => {
  const start = EXIF_HEADER.every((b, i) => raw[i] === b) ? 6 : 0;
  if (raw.length < start + 8) return null;
  const view = new DataView(raw.buffer, raw.byteOffset + start, raw.byteLength - start);
  const order = view.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return null;
  const tiff = new Tiff(view, order === 0x4949);
  return tiff.u16(2) === 42 ? tiff : null;
};

const named = (entries: Map<number, JsonValue>, names: Readonly<Record<number, string>>, out: JsonObject): void => {
  for (const [tag, value] of entries) {
    const name = names[tag] ?? `Tag0x${tag.toString(16).padStart(4, "0").toUpperCase()}`;
    if (!(name in out)) out[name] = value;
  }
};

/**
 * The EXIF tags of IFD0, the Exif IFD and the GPS IFD as one flat, JSON-safe object keyed by tag name
 * (like Cloudinary's `image_metadata`). Malformed input yields what could be read, never an exception.
 */
export const parseExif = (raw: Uint8Array | undefined): JsonObject => {
  const out: JsonObject = {};
  if (!raw) return out;
  try {
    const tiff = openTiff(raw);
    if (!tiff) return out;
    const ifd0 = readIfd(tiff, tiff.u32(4));
    named(ifd0.entries, IFD0_TAGS, out);
    const exifAt = ifd0.pointers.get(EXIF_IFD_POINTER);
    if (exifAt !== undefined) named(readIfd(tiff, exifAt).entries, EXIF_TAGS, out);
    const gpsAt = ifd0.pointers.get(GPS_IFD_POINTER);
    if (gpsAt !== undefined) named(readIfd(tiff, gpsAt).entries, GPS_TAGS, out);
  } catch {
    // A truncated block: keep what was read before the bad offset.
  }
  return out;
};

const EXIF_DATE = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/;

/** `2018:01:01 08:00:00` → that instant in UTC (EXIF dates carry no zone); null when absent or invalid. */
export const exifDate = (value: JsonValue | undefined): Date | null => {
  if (typeof value !== "string") return null;
  const m = EXIF_DATE.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return date.getUTCDate() === d ? date : null;
};

const degrees = (value: JsonValue | undefined): number | null => {
  if (typeof value === "number") return value;
  if (!Array.isArray(value) || value.length === 0) return null;
  const [d, m = 0, s = 0] = value;
  if (typeof d !== "number" || typeof m !== "number" || typeof s !== "number") return null;
  return d + m / 60 + s / 3600;
};

/** `[latitude, longitude]` from the GPS tags, signed by their N/S and E/W references; null when incomplete. */
export const exifGps = (tags: JsonObject): LatLon | null => {
  const lat = degrees(tags.GPSLatitude);
  const lon = degrees(tags.GPSLongitude);
  if (lat === null || lon === null) return null;
  const latitude = tags.GPSLatitudeRef === "S" ? -lat : lat;
  const longitude = tags.GPSLongitudeRef === "W" ? -lon : lon;
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude) || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return null;
  return [latitude, longitude];
};
