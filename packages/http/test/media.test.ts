import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BlobKey } from "@image-api/core";
import { jpegWithExif, quadrantPng } from "@image-api/testkit";
import { binary, blobKeyOf, deliveryUrls, fixturePng, freshAlbum, pathOf, startTestApp, uploaded, type TestApp } from "./harness.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const fetchUrl = (url: string) => binary(t.http().get(pathOf(url)));
const size = async (bytes: Buffer) => {
  const m = await sharp(bytes).metadata();
  return { width: m.width, height: m.height, format: m.format };
};
/** RGB of the pixel at (x, y). */
const pixel = async (bytes: Buffer, x: number, y: number): Promise<[number, number, number]> => {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [data[at]!, data[at + 1]!, data[at + 2]!];
};
/** The rendition part of a delivery URL's path: `/media/<variant>/<rendition…>/<key>/v<n>/<file>`. */
const renditionPart = (url: string): string => new URL(url).pathname.split("/").slice(3, -3).join("/");

const put = async (id: string, album: string, body: string) =>
  t
    .http()
    .put(`/api/v1/images/${id}`)
    .set("Authorization", t.auth(await t.token(["image_rotate", "image_crop"], album)))
    .type("form")
    .send(body);

describe("delivery of an uploaded image", () => {
  const album = freshAlbum("MEDIA");
  let png: Buffer;
  let image: Record<string, any>;
  beforeAll(async () => {
    png = await fixturePng();
    image = await uploaded(t, { album, bytes: png, filename: "Super Image.png" });
  });

  it("serves every URL with 200 and the image's content type", async () => {
    const urls = deliveryUrls(image);
    expect(Object.keys(urls)).toHaveLength(11);
    for (const [k, url] of Object.entries(urls)) {
      expect(url.startsWith("http://media.test/media/"), k).toBe(true);
      const r = await fetchUrl(url);
      expect(r.status, k).toBe(200);
      expect(r.headers["content-type"], k).toBe("image/png");
      expect(Number(r.headers["content-length"]), k).toBe((r.body as Buffer).byteLength);
      expect((await size(r.body as Buffer)).format, k).toBe("png");
    }
  });

  it("renders each rendition at its size", async () => {
    const dims = async (url: string) => {
      const { width, height } = await size((await fetchUrl(url)).body as Buffer);
      return [width, height];
    };
    expect(await dims(image.thumbnails.mini)).toEqual([100, 100]);
    expect(await dims(image.external_urls.mini)).toEqual([100, 100]);
    expect(await dims(image.thumbnails.large)).toEqual([200, 200]);
    expect(await dims(image.external_urls.fill100)).toEqual([300, 300]);
    const [fw, fh] = await dims(image.thumbnails.full);
    expect(fw).toBeLessThanOrEqual(1920);
    expect(fh).toBeLessThanOrEqual(1920);
    expect(fw).toBe(fh);
    expect(await dims(image.thumbnails.full_no_sharinpix)).toEqual([fw, fh]);
    const [gw, gh] = await dims(image.external_urls.fit2000);
    expect(gw).toBeLessThanOrEqual(2000);
    expect(gw).toBe(gh);
    expect(await dims(image.thumbnails.original)).toEqual([48, 48]);
  });

  it("serves the exact uploaded bytes at original_url, as an attachment named after the file", async () => {
    const r = await fetchUrl(image.original_url);
    expect(r.status).toBe(200);
    expect(Buffer.compare(r.body as Buffer, png)).toBe(0);
    expect(r.headers["content-disposition"]).toBe(`attachment; filename="Super Image.png"; filename*=UTF-8''Super%20Image.png`);
    expect(r.headers["content-length"]).toBe(String(png.byteLength));
  });

  it("marks the attachment renditions, and not the external ones", async () => {
    expect((await fetchUrl(image.thumbnails.mini)).headers["content-disposition"]).toMatch(/^attachment; filename="Super Image.png"/);
    expect((await fetchUrl(image.external_urls.fill100)).headers["content-disposition"]).toBeUndefined();
    expect((await fetchUrl(image.external_urls.fit2000)).headers["content-disposition"]).toBeUndefined();
  });

  it("lets browsers cache the bytes privately", async () => {
    const r = await fetchUrl(image.thumbnails.large);
    expect(r.headers["cache-control"]).toBe("private, max-age=3600");
    expect(r.headers.pragma).toBeUndefined();
    expect(r.headers.expires).toBeUndefined();
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("answers HEAD with the headers and no body", async () => {
    const r = await t.http().head(pathOf(image.original_url));
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("image/png");
    expect(r.headers["content-length"]).toBe(String(png.byteLength));
    expect(r.text ?? "").toBe("");
    const mini = await t.http().head(pathOf(image.thumbnails.mini));
    expect(mini.status).toBe(200);
    expect(mini.headers["content-type"]).toBe("image/png");
  });

  it("caches a rendition after its first fetch, and serves it from the cache", async () => {
    const fresh = await uploaded(t, { album, bytes: await fixturePng(48, 48, "#336699") });
    const key = await blobKeyOf(t, fresh.id);
    const name = renditionPart(fresh.thumbnails.large);
    expect(name).toBe("c_fit,h_1920,w_1920/c_fill,h_200,w_200/fl_attachment");
    expect((await t.deps.blobs.getRendition(key, name)())._tag).toBe("Left");
    const first = await fetchUrl(fresh.thumbnails.large);
    expect(first.status).toBe(200);
    const cached = await t.deps.blobs.getRendition(key, name)();
    expect(cached._tag).toBe("Right");
    if (cached._tag === "Right") expect(cached.right.bytes).toBe((first.body as Buffer).byteLength);
    // Replace the cached bytes: what is served next comes from the cache, not a new render.
    const planted = await fixturePng(200, 200, "#00FF00");
    const put = await t.deps.blobs.putRendition(key, name, planted, "image/png")();
    expect(put._tag).toBe("Right");
    const second = await fetchUrl(fresh.thumbnails.large);
    expect(Buffer.compare(second.body as Buffer, planted)).toBe(0);
  });

  it("names the download after a non-ASCII file name", async () => {
    const img = await uploaded(t, { album, filename: "Café ü.png" });
    const r = await fetchUrl(img.original_url);
    expect(r.status).toBe(200);
    expect(r.headers["content-disposition"]).toBe(`attachment; filename="Caf_ _.png"; filename*=UTF-8''Caf%C3%A9%20%C3%BC.png`);
  });

  it("percent-encodes the characters RFC 5987 forbids bare in filename*", async () => {
    const img = await uploaded(t, { album, filename: "it's (1)*.png" });
    const r = await fetchUrl(img.original_url);
    expect(r.headers["content-disposition"]).toBe(`attachment; filename="it's (1)*.png"; filename*=UTF-8''it%27s%20%281%29%2A.png`);
  });

  it("delivers JPEG renditions as JPEG", async () => {
    const jpg = await jpegWithExif({ width: 64, height: 48 });
    const img = await uploaded(t, { album, bytes: jpg, filename: "photo.jpg" });
    const mini = await fetchUrl(img.thumbnails.mini);
    expect(mini.headers["content-type"]).toBe("image/jpeg");
    expect(await size(mini.body as Buffer)).toEqual({ width: 100, height: 100, format: "jpeg" });
    const original = await fetchUrl(img.original_url);
    expect(Buffer.compare(original.body as Buffer, Buffer.from(jpg))).toBe(0);
  });
});

describe("renditions follow rotation and crop", () => {
  // Quadrants: top-left red, top-right green, bottom-left blue, bottom-right white.
  const RED: [number, number, number] = [255, 0, 0];
  const GREEN: [number, number, number] = [0, 255, 0];
  const BLUE: [number, number, number] = [0, 0, 255];
  const WHITE: [number, number, number] = [255, 255, 255];

  it("turns a 60×40 image upright to 40×60 after rotation=90", async () => {
    const album = freshAlbum();
    const img = await uploaded(t, { album, bytes: Buffer.from(await quadrantPng(60, 40)), filename: "wide.png" });
    const before = await size((await fetchUrl(img.thumbnails.full)).body as Buffer);
    expect(before.width! / before.height!).toBeCloseTo(60 / 40, 2);
    const r = await put(img.id, album, "rotation=90");
    expect(r.status).toBe(200);
    expect([r.body.width, r.body.height]).toEqual([40, 60]);
    const full = (await fetchUrl(r.body.thumbnails.full)).body as Buffer;
    const { width, height } = await size(full);
    expect(Math.max(width!, height!)).toBeLessThanOrEqual(1920);
    expect(width! / height!).toBeCloseTo(40 / 60, 2);
    // Clockwise: the bottom-left quadrant comes to the top-left, the top-left to the top-right.
    expect(await pixel(full, 5, 5)).toEqual(BLUE);
    expect(await pixel(full, width! - 5, 5)).toEqual(RED);
    expect(await pixel(full, 5, height! - 5)).toEqual(WHITE);
    expect(await pixel(full, width! - 5, height! - 5)).toEqual(GREEN);
    // The untouched slots still show the image as stored.
    const plain = await size((await fetchUrl(r.body.thumbnails.full_no_sharinpix)).body as Buffer);
    expect(plain.width! / plain.height!).toBeCloseTo(60 / 40, 2);
    expect(await size((await fetchUrl(r.body.thumbnails.original)).body as Buffer)).toMatchObject({ width: 60, height: 40 });
  });

  it("shows only the cropped rectangle, at its aspect ratio", async () => {
    const album = freshAlbum();
    const img = await uploaded(t, { album, bytes: Buffer.from(await quadrantPng(60, 40)), filename: "wide.png" });
    // Inside the bottom-right (white) quadrant.
    const r = await put(img.id, album, "crop_x=35&crop_y=25&crop_w=10&crop_h=11");
    expect(r.status).toBe(200);
    const full = (await fetchUrl(r.body.thumbnails.full)).body as Buffer;
    const { width, height } = await size(full);
    expect(width! / height!).toBeCloseTo(10 / 11, 2);
    for (const [x, y] of [
      [1, 1],
      [width! - 2, height! - 2],
      [Math.floor(width! / 2), Math.floor(height! / 2)],
    ] as const)
      expect(await pixel(full, x, y)).toEqual(WHITE);
    // And in the top-left (red) one.
    const red = await put(img.id, album, "crop_x=2&crop_y=3&crop_w=10&crop_h=11");
    const redFull = (await fetchUrl(red.body.thumbnails.full)).body as Buffer;
    expect(await pixel(redFull, 3, 3)).toEqual(RED);
    const mini = await size((await fetchUrl(red.body.thumbnails.mini)).body as Buffer);
    expect([mini.width, mini.height]).toEqual([100, 100]);
  });
});

describe("renditions of fractional crops", () => {
  it("serves a crop at half pixels, at the size the JSON reports", async () => {
    const album = freshAlbum();
    const img = await uploaded(t, { album, bytes: Buffer.from(await quadrantPng(60, 40)) });
    const r = await put(img.id, album, "crop_x=3.5&crop_y=2.25&crop_w=10.5&crop_h=11");
    expect(r.status).toBe(200);
    const original = await fetchUrl(r.body.thumbnails.original);
    expect(original.status).toBe(200);
    const fit = await fetchUrl(r.body.external_urls.fill100);
    expect(fit.status).toBe(200);
    const { width, height } = await size(fit.body as Buffer);
    expect(width! / height!).toBeCloseTo(r.body.width / r.body.height, 2);
  });

  // The rendition name prints crop values with String(), so 1e-7 reaches the URL in exponent form,
  // which the signer's parser does not accept: the image's renditions all answer 403.
  it("BUG: a crop value with more than 6 decimals (0.0000001) yields delivery URLs that are refused", async () => {
    const album = freshAlbum();
    const img = await uploaded(t, { album });
    const r = await put(img.id, album, "crop_x=0.0000001&crop_y=0&crop_w=10&crop_h=10");
    // Either refuse the value up front, or serve what was accepted.
    if (r.status === 422) return;
    expect(r.status).toBe(200);
    expect((await fetchUrl(r.body.thumbnails.full)).status).toBe(200);
  });
});

describe("refused delivery URLs", () => {
  const album = freshAlbum("SIG");
  let image: Record<string, any>;
  let other: Record<string, any>;
  beforeAll(async () => {
    image = await uploaded(t, { album });
    other = await uploaded(t, { album, bytes: await fixturePng(48, 48, "#FF00FF") });
  });

  const refused = async (path: string, message = /^invalid delivery URL: /) => {
    const r = await binary(t.http().get(path));
    expect(r.status, path).toBe(403);
    expect(r.headers["content-type"], path).toBe("application/json; charset=utf-8");
    const body = JSON.parse((r.body as Buffer).toString("utf8"));
    expect(body.error.code, path).toBe("forbidden");
    expect(body.error.message, path).toMatch(message);
    expect(r.headers["content-disposition"]).toBeUndefined();
  };

  it("a changed signature character", async () => {
    const path = pathOf(image.thumbnails.mini);
    const at = path.length - 5;
    const swapped = path[at] === "A" ? "B" : "A";
    await refused(`${path.slice(0, at)}${swapped}${path.slice(at + 1)}`);
  });

  it("another image's blob key under this signature", async () => {
    const mine = pathOf(image.original_url);
    const key = (await blobKeyOf(t, image.id)) as string;
    const theirs = (await blobKeyOf(t, other.id)) as string;
    expect(mine).toContain(key);
    await refused(mine.replace(key, theirs));
  });

  it("a changed transformation", async () => {
    const mini = pathOf(image.thumbnails.mini);
    await refused(mini.replace("c_fill,h_100,w_100", "c_fill,h_1000,w_1000"));
    await refused(mini.replace("/mini/", "/large/"));
    await refused(pathOf(image.original_url).replace("/download/fl_attachment/", "/download/a_90/fl_attachment/"));
  });

  it("a changed expiry", async () => {
    const path = pathOf(image.original_url);
    await refused(path.replace(/exp=(\d+)/, (_m, e: string) => `exp=${Number(e) + 3600}`));
  });

  it("a dropped signature, a dropped query, or an added parameter", async () => {
    const path = pathOf(image.original_url);
    await refused(path.replace(/&sig=[^&]+$/, ""));
    await refused(path.replace(/\?.*$/, ""));
    await refused(`${path}&download=1`);
    await refused(path.replace("?", "?a=1&"));
  });

  it("a path that is no delivery URL at all", async () => {
    const bare = await t.http().get("/media/");
    expect(bare.status).toBe(404);
    expect(bare.body.error.code).toBe("not_found");
    await refused("/media/x");
    await refused("/media/../api/v1/images");
    await refused(`/media/download/fl_attachment/..%2F..%2Fdb/v1/x.png?exp=9999999999&sig=${"A".repeat(43)}`);
  });

  it("an expired URL, once the TTL and the rounding window have passed", async () => {
    const url = image.thumbnails.mini as string;
    expect((await fetchUrl(url)).status).toBe(200);
    const start = t.clock.now();
    try {
      t.clock.advance((24 * 3600 + 2 * 3600) * 1000);
      await refused(pathOf(url), /^delivery URL expired$/);
      await refused(pathOf(image.original_url), /^delivery URL expired$/);
      // A URL signed now works again.
      const fresh = await t.http().get(`/api/v1/images/${image.id}`).set("Authorization", t.auth(await t.token(["image_list"], album)));
      expect((await fetchUrl(fresh.body.thumbnails.mini)).status).toBe(200);
    } finally {
      t.clock.set(start);
    }
  });

  it("a URL of a deleted image's blob: 404", async () => {
    const img = await uploaded(t, { album, bytes: await fixturePng(48, 48, "#010203") });
    const key: BlobKey = await blobKeyOf(t, img.id);
    const del = await t.http().delete(`/api/v1/images/${img.id}`).set("Authorization", t.auth(await t.token(["image_delete"], album)));
    expect(del.status).toBe(204);
    const r = await fetchUrl(img.original_url);
    expect(r.status).toBe(404);
    expect((await fetchUrl(img.thumbnails.mini)).status).toBe(404);
    expect((await t.deps.blobs.exists(key)())._tag).toBe("Right");
  });
});

describe("a delete racing renders", () => {
  it("leaves no thumbnail of the deleted image served or stored, however the render and the delete interleave", async () => {
    const { readdir } = await import("node:fs/promises");
    const { join } = await import("node:path");
    for (let round = 0; round < 3; round++) {
      const album = freshAlbum();
      const token = await t.token(["image_upload", "image_delete"], album);
      const image = await uploaded(t, { album, token, bytes: await fixturePng(1200, 1200, "#2060a0") });
      const urls = [image.thumbnails.large, image.thumbnails.full, image.external_urls.fit2000] as string[];
      // Started now (a supertest request starts when awaited), so the delete lands while they render.
      const renders = urls.map((u) => fetchUrl(u).then((r) => r.status));
      await new Promise((resolve) => setTimeout(resolve, 5 * round));
      const deleted = await t.http().delete(`/api/v1/images/${image.id}`).set("Authorization", t.auth(token));
      await Promise.all(renders);
      expect(deleted.status).toBe(204);
      for (const u of urls) expect((await fetchUrl(u)).status, u).toBe(404);
      const key = new URL(urls[0]!).pathname.split("/").at(-3)!;
      const left = await readdir(join(t.dataDir, "blobs", "renditions")).catch(() => [] as string[]);
      expect(left).not.toContain(key);
    }
  });
});
