import { renditionOf, VARIANTS, type Crop, type Rendered, type Rendition, type Rotation, type Variant } from "@image-api/core";
import { jpegWithExif, quadrantPng, solidPng } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import sharp from "sharp";
import { beforeAll, describe, expect, test } from "vitest";
import { sharpImageRenderer } from "../src/sharp/index.js";

const renderer = sharpImageRenderer();

const rendered = async (original: Uint8Array, r: Rendition, format = "png"): Promise<Rendered> => {
  const out = await renderer.render(original, r, format)();
  if (E.isLeft(out)) throw new Error(`${out.left._tag}: ${out.left.message}`);
  return out.right;
};

const edits = (crop: Crop | null, rotation: Rotation, resize: Rendition["resize"] = []): Rendition => ({
  variant: "full",
  crop,
  rotation,
  resize,
  attachment: false,
});

const sizeOf = async (bytes: Uint8Array) => {
  const m = await sharp(bytes).metadata();
  return [m.width, m.height];
};

/** `#RRGGBB` of the pixel at (x, y). */
const pixel = async (bytes: Uint8Array, x: number, y: number): Promise<string> => {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return `#${[0, 1, 2].map((c) => data[at + c]!.toString(16).padStart(2, "0").toUpperCase()).join("")}`;
};

const RED = "#FF0000";
const GREEN = "#00FF00";
const BLUE = "#0000FF";
const WHITE = "#FFFFFF";

describe("sharpImageRenderer", () => {
  // 400×300, quadrants: red top-left, green top-right, blue bottom-left, white bottom-right.
  let source: Uint8Array;
  beforeAll(async () => {
    source = await quadrantPng(400, 300, [RED, GREEN, BLUE, WHITE]);
  });

  const expected: Record<Variant, [number, number]> = {
    download: [400, 300],
    original: [400, 300],
    full_no_sharinpix: [1920, 1440],
    full: [1920, 1440],
    large: [200, 200],
    mini: [100, 100],
    fill100: [300, 225],
    fit2000: [2000, 1500],
  };

  test.for([...VARIANTS])("%s has the size its rendition asks for", async (variant) => {
    const out = await rendered(source, renditionOf({ crop: null, rotation: 0 }, variant));
    expect(await sizeOf(out.bytes)).toEqual(expected[variant]);
  });

  test.for([...VARIANTS])("%s of a cropped, rotated image", async (variant) => {
    const r = renditionOf({ crop: { x: 100, y: 50, w: 200, h: 100 }, rotation: 90 }, variant);
    const out = await rendered(source, r);
    const edited: Record<Variant, [number, number]> = {
      ...expected,
      full: [960, 1920],
      large: [200, 200],
      mini: [100, 100],
      fill100: [300, 600],
      fit2000: [1000, 2000],
    };
    expect(await sizeOf(out.bytes)).toEqual(edited[variant]);
  });

  test("a quarter turn swaps width and height and turns clockwise", async () => {
    const out = await rendered(source, edits(null, 90));
    expect(await sizeOf(out.bytes)).toEqual([300, 400]);
    expect(await pixel(out.bytes, 10, 10)).toBe(BLUE);
    expect(await pixel(out.bytes, 290, 10)).toBe(RED);
    expect(await pixel(out.bytes, 10, 390)).toBe(WHITE);
    expect(await pixel(out.bytes, 290, 390)).toBe(GREEN);
  });

  test("a half turn keeps the size and swaps opposite corners", async () => {
    const out = await rendered(source, edits(null, 180));
    expect(await sizeOf(out.bytes)).toEqual([400, 300]);
    expect(await pixel(out.bytes, 10, 10)).toBe(WHITE);
    expect(await pixel(out.bytes, 390, 290)).toBe(RED);
  });

  test("three quarter turns", async () => {
    const out = await rendered(source, edits(null, 270));
    expect(await sizeOf(out.bytes)).toEqual([300, 400]);
    expect(await pixel(out.bytes, 10, 10)).toBe(GREEN);
    expect(await pixel(out.bytes, 10, 390)).toBe(RED);
  });

  test("a rotated thumbnail is turned before it is filled", async () => {
    const out = await rendered(source, renditionOf({ crop: null, rotation: 90 }, "mini"));
    expect(await sizeOf(out.bytes)).toEqual([100, 100]);
    expect(await pixel(out.bytes, 10, 10)).toBe(BLUE);
    expect(await pixel(out.bytes, 90, 10)).toBe(RED);
    expect(await pixel(out.bytes, 10, 90)).toBe(WHITE);
    expect(await pixel(out.bytes, 90, 90)).toBe(GREEN);
  });

  test("a CMYK JPEG renders in sRGB", async () => {
    const cmyk = await sharp({ create: { width: 40, height: 40, channels: 3, background: RED } }).toColourspace("cmyk").jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe("cmyk");
    const out = await rendered(cmyk, renditionOf({ crop: { x: 0, y: 0, w: 20, h: 20 }, rotation: 90 }, "large"), "jpeg");
    expect(await sizeOf(out.bytes)).toEqual([200, 200]);
    const { data } = await sharp(out.bytes).raw().toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeGreaterThan(200);
    expect(data[1]).toBeLessThan(60);
    expect(data[2]).toBeLessThan(60);
  });

  test("crops in original pixels", async () => {
    const out = await rendered(source, edits({ x: 150, y: 100, w: 100, h: 100 }, 0));
    expect(await sizeOf(out.bytes)).toEqual([100, 100]);
    expect(await pixel(out.bytes, 10, 10)).toBe(RED);
    expect(await pixel(out.bytes, 90, 10)).toBe(GREEN);
    expect(await pixel(out.bytes, 10, 90)).toBe(BLUE);
    expect(await pixel(out.bytes, 90, 90)).toBe(WHITE);
  });

  test("crops before rotating", async () => {
    // The top half's middle: red on the left, green on the right; turned, red ends on top.
    const out = await rendered(source, edits({ x: 100, y: 0, w: 200, h: 150 }, 90));
    expect(await sizeOf(out.bytes)).toEqual([150, 200]);
    expect(await pixel(out.bytes, 75, 20)).toBe(RED);
    expect(await pixel(out.bytes, 75, 180)).toBe(GREEN);
  });

  test("fill crops to the exact box, fit keeps the aspect ratio", async () => {
    const fill = await rendered(source, edits(null, 0, [{ mode: "fill", width: 50, height: 120 }]));
    expect(await sizeOf(fill.bytes)).toEqual([50, 120]);
    const fit = await rendered(source, edits(null, 0, [{ mode: "fit", width: 50, height: 120 }]));
    expect(await sizeOf(fit.bytes)).toEqual([50, 38]);
    const heightOnly = await rendered(source, edits(null, 0, [{ mode: "fit", height: 60 }]));
    expect(await sizeOf(heightOnly.bytes)).toEqual([80, 60]);
  });

  test("crops outside the image are clamped to it", async () => {
    expect(await sizeOf((await rendered(source, edits({ x: 350, y: 250, w: 500, h: 500 }, 0))).bytes)).toEqual([50, 50]);
    expect(await sizeOf((await rendered(source, edits({ x: 1000, y: 1000, w: 10, h: 10 }, 0))).bytes)).toEqual([1, 1]);
    expect(await sizeOf((await rendered(source, edits({ x: 10.4, y: 10.6, w: 99.5, h: 50.2 }, 0))).bytes)).toEqual([100, 50]);
  });

  test("encodes in the original's format, JPEG for formats it does not write", async () => {
    const r = edits(null, 90);
    const png = await rendered(source, r, "png");
    expect(png.contentType).toBe("image/png");
    expect((await sharp(png.bytes).metadata()).format).toBe("png");
    const webpSource = await sharp(source).webp().toBuffer();
    const webp = await rendered(webpSource, r, "webp");
    expect(webp.contentType).toBe("image/webp");
    expect((await sharp(webp.bytes).metadata()).format).toBe("webp");
    const gifSource = await sharp(source).gif().toBuffer();
    const gif = await rendered(gifSource, r, "gif");
    expect(gif.contentType).toBe("image/jpeg");
    expect((await sharp(gif.bytes).metadata()).format).toBe("jpeg");
    const jpeg = await rendered(await jpegWithExif({ width: 64, height: 48 }), r, "jpeg");
    expect(jpeg.contentType).toBe("image/jpeg");
    expect(await sizeOf(jpeg.bytes)).toEqual([48, 64]);
  });

  test("transparent images delivered as JPEG are flattened onto white", async () => {
    const clear = await sharp({ create: { width: 20, height: 20, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const out = await rendered(clear, edits(null, 90), "avif");
    expect(out.contentType).toBe("image/jpeg");
    expect(await pixel(out.bytes, 10, 10)).toBe(WHITE);
  });

  test("renditions carry no EXIF, so no camera position leaks", async () => {
    const original = await jpegWithExif({ gps: { latitude: 48.86, longitude: 2.35 }, make: "Acme" });
    const out = await rendered(original, renditionOf({ crop: null, rotation: 0 }, "mini"), "jpeg");
    expect((await sharp(out.bytes).metadata()).exif).toBeUndefined();
  });

  test("does not apply EXIF orientation: pixels stay in stored coordinates", async () => {
    const tagged = await sharp(await quadrantPng(60, 40, [RED, GREEN, BLUE, WHITE])).png().withMetadata({ orientation: 6 }).toBuffer();
    const out = await rendered(tagged, edits({ x: 0, y: 0, w: 30, h: 20 }, 0));
    expect(await sizeOf(out.bytes)).toEqual([30, 20]);
    expect(await pixel(out.bytes, 15, 10)).toBe(RED);
  });

  test("refuses bytes that are not an image, and oversized images", async () => {
    const garbage = await renderer.render(new TextEncoder().encode("nope"), edits(null, 90), "png")();
    expect(E.isLeft(garbage) && garbage.left._tag).toBe("Unsupported");
    const empty = await renderer.render(new Uint8Array(0), edits(null, 90), "png")();
    expect(E.isLeft(empty) && empty.left._tag).toBe("Unsupported");
    const small = sharpImageRenderer({ maxPixels: 100 });
    const big = await small.render(await solidPng(20, 20), edits(null, 90), "png")();
    expect(E.isLeft(big) && big.left._tag).toBe("Unsupported");
  });
});
