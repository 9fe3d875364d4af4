import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";
import type { ImageInspector, Inspection } from "@image-api/core";
import { jpegWithExif, quadrantPng, solidPng } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import sharp from "sharp";
import { describe, expect, test } from "vitest";
import { sharpImageInspector } from "../src/sharp/index.js";

const inspector = sharpImageInspector();

const inspected = async (bytes: Uint8Array, i: ImageInspector = inspector): Promise<Inspection> => {
  const r = await i.inspect(bytes)();
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`);
  return r.right;
};
const refusal = async (bytes: Uint8Array, i: ImageInspector = inspector) => {
  const r = await i.inspect(bytes)();
  return E.isLeft(r) ? r.left : null;
};

const crc32 = (buf: Buffer): number => {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
};
const chunk = (type: string, data: Buffer): Buffer => {
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
};
/** A valid-looking PNG header announcing `w`×`h` pixels over a few bytes of data: a decompression bomb's shape. */
const bombPng = (w: number, h: number): Uint8Array => {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.alloc(1024))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
};

describe("sharpImageInspector", () => {
  test("reads the seed's 48×48 #7D7D7D PNG", async () => {
    const bytes = await solidPng(48, 48, "#7D7D7D");
    expect(await inspected(bytes)).toEqual({
      format: "png",
      contentType: "image/png",
      width: 48,
      height: 48,
      etag: createHash("md5").update(bytes).digest("hex"),
      color: "#7D7D7D",
      exifs: {},
      takenAt: null,
      gps: null,
    });
  });

  test("average colour: uppercase hex of the channel means", async () => {
    expect((await inspected(await solidPng(10, 10, "#0a1b2c"))).color).toBe("#0A1B2C");
    // Quadrants red, green, blue, white: each channel averages 127.5, rounded up.
    expect((await inspected(await quadrantPng(100, 100))).color).toBe("#808080");
    // Big images are averaged on a thumbnail; a flat colour stays exact.
    expect((await inspected(await solidPng(3000, 2000, "#123456"))).color).toBe("#123456");
  });

  test("average colour of greyscale and transparent images", async () => {
    const grey = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#404040" } }).toColourspace("b-w").png().toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    expect((await inspected(grey)).color).toBe("#404040");
    const rgba = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 200, g: 100, b: 50, alpha: 0.5 } } }).png().toBuffer();
    expect((await inspected(rgba)).color).toBe("#C86432");
  });

  test("average colour of a CMYK JPEG is taken in sRGB", async () => {
    const cmyk = await sharp({ create: { width: 16, height: 16, channels: 3, background: "#FF0000" } }).toColourspace("cmyk").jpeg().toBuffer();
    const [r, g, b] = (await inspected(cmyk)).color.slice(1).match(/../g)!.map((h) => parseInt(h, 16));
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(60);
    expect(b).toBeLessThan(60);
  });

  test("reads EXIF: camera, DateTimeOriginal as UTC, GPS with its references", async () => {
    const bytes = await jpegWithExif({
      width: 64,
      height: 48,
      make: "Acme",
      model: "Snap 3000",
      dateTimeOriginal: "2018:01:01 08:00:00",
      gps: { latitude: 48.8619344, longitude: 2.348967 },
    });
    const seen = await inspected(bytes);
    expect(seen).toMatchObject({ format: "jpeg", contentType: "image/jpeg", width: 64, height: 48 });
    expect(seen.exifs).toMatchObject({ Make: "Acme", Model: "Snap 3000", DateTimeOriginal: "2018:01:01 08:00:00", GPSLatitudeRef: "N", GPSLongitudeRef: "E" });
    expect(seen.takenAt?.toISOString()).toBe("2018-01-01T08:00:00.000Z");
    expect(seen.gps?.[0]).toBeCloseTo(48.8619344, 6);
    expect(seen.gps?.[1]).toBeCloseTo(2.348967, 6);
    expect(JSON.parse(JSON.stringify(seen.exifs))).toEqual(seen.exifs);
    expect(JSON.stringify(seen.exifs)).not.toContain("\\u0000");
  });

  test("southern and western positions are negative", async () => {
    const seen = await inspected(await jpegWithExif({ gps: { latitude: -33.8567844, longitude: -70.6482639 } }));
    expect(seen.exifs).toMatchObject({ GPSLatitudeRef: "S", GPSLongitudeRef: "W" });
    expect(seen.gps?.[0]).toBeCloseTo(-33.8567844, 6);
    expect(seen.gps?.[1]).toBeCloseTo(-70.6482639, 6);
  });

  test("no DateTimeOriginal or GPS means null takenAt and gps", async () => {
    const seen = await inspected(await jpegWithExif({ make: "Acme" }));
    expect(seen.exifs.Make).toBe("Acme");
    expect(seen.takenAt).toBeNull();
    expect(seen.gps).toBeNull();
  });

  test("keeps the stored pixel size of an EXIF-rotated photo", async () => {
    const bytes = await sharp({ create: { width: 60, height: 40, channels: 3, background: "#FF0000" } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const seen = await inspected(bytes);
    expect([seen.width, seen.height]).toEqual([60, 40]);
    expect(seen.exifs.Orientation).toBe(6);
  });

  test.for([
    ["webp", "image/webp"],
    ["gif", "image/gif"],
    ["tiff", "image/tiff"],
    ["avif", "image/avif"],
  ] as const)("accepts %s", async ([format, contentType]) => {
    const bytes = await sharp({ create: { width: 32, height: 24, channels: 3, background: "#336699" } }).toFormat(format).toBuffer();
    const seen = await inspected(bytes);
    expect(seen).toMatchObject({ format, contentType, width: 32, height: 24 });
    expect(seen.color).toMatch(/^#[0-9A-F]{6}$/);
  });

  test.for([
    ["empty", new Uint8Array(0)],
    ["text", new TextEncoder().encode("definitely not an image")],
    ["a PDF header", new TextEncoder().encode("%PDF-1.4\n%âãÏÓ\n1 0 obj\n")],
    ["SVG", new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')],
  ] as const)("refuses %s as Unsupported", async ([, bytes]) => {
    expect(await refusal(bytes)).toEqual({ _tag: "Unsupported", message: "file is not a supported image" });
  });

  test("refuses a truncated image", async () => {
    const png = await solidPng(200, 200, "#7D7D7D");
    const jpeg = await jpegWithExif({ width: 300, height: 200 });
    expect((await refusal(png.subarray(0, 60)))?._tag).toBe("Unsupported");
    expect((await refusal(jpeg.subarray(0, Math.floor(jpeg.byteLength / 2))))?._tag).toBe("Unsupported");
  });

  test("refuses decompression bombs before decoding them", async () => {
    const started = Date.now();
    const r = await refusal(bombPng(60_000, 60_000));
    expect(r?._tag).toBe("Unsupported");
    expect(Date.now() - started).toBeLessThan(2000);
    const small = sharpImageInspector({ maxPixels: 1000 });
    expect((await refusal(await solidPng(40, 40), small))?._tag).toBe("Unsupported");
    expect((await inspected(await solidPng(20, 20), small)).width).toBe(20);
  });
});
