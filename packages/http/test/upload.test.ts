import { createHash } from "node:crypto";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jpegWithExif } from "@image-api/testkit";
import { isoWithOffset } from "../src/present/image.presenter.js";
import {
  albumCount,
  asXMessage,
  binary,
  fixturePng,
  freshAlbum,
  IMAGE_KEYS,
  pathOf,
  startTestApp,
  storedFiles,
  upload,
  UUID_RE,
  type TestApp,
  type UploadOptions,
} from "./harness.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const md5 = (b: Uint8Array): string => createHash("md5").update(b).digest("hex");

describe("POST /api/v1/albums/:album_id/images", () => {
  describe("a solid #7D7D7D 48×48 PNG", () => {
    const album = freshAlbum("UP");
    let png: Buffer;
    let res: Awaited<ReturnType<typeof upload>>;
    let filesBefore: string[];
    let at: Date;

    beforeAll(async () => {
      png = await fixturePng();
      filesBefore = await storedFiles(t);
      at = t.clock.now();
      res = await upload(t, {
        album,
        bytes: png,
        filename: "Super Image.png",
        fields: { title: "A title", description: "A description", "metadatas[meta]": "data" },
      });
    });

    it("answers 200 with a refreshed X-token", () => {
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(res.headers["x-token"]).toMatch(/^eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9\.[\w-]+\.[\w-]+$/);
    });

    it("returns the 35 keys in order", () => {
      expect(Object.keys(res.body)).toEqual([...IMAGE_KEYS]);
    });

    it("describes the file in infos", () => {
      const infos = res.body.infos;
      expect(Object.keys(infos)).toEqual([
        "bytes",
        "created_at",
        "etag",
        "format",
        "height",
        "resource_type",
        "tags",
        "type",
        "width",
        "original_filename",
      ]);
      expect(infos).toEqual({
        bytes: png.byteLength,
        created_at: at.toISOString().replace(/\.\d{3}Z$/, "Z"),
        etag: md5(png),
        format: "png",
        height: 48,
        resource_type: "image",
        tags: [album],
        type: "authenticated",
        width: 48,
        original_filename: "Super Image",
      });
    });

    it("fills the image fields", () => {
      const b = res.body;
      expect(b.id).toMatch(UUID_RE);
      expect(b.public_id).toBe(b.id);
      expect(b.album_id).toBe(album);
      expect(b.group_id).toBeNull();
      expect(b.color).toBe("#7D7D7D");
      expect(b.size).toBe(png.byteLength);
      expect(b.filename).toBe("Super Image");
      expect(b.format).toBe("png");
      expect(b.title).toBe("A title");
      expect(b.description).toBe("A description");
      expect(b.metadatas).toEqual({ meta: "data" });
      expect(b.exifs).toEqual({});
      expect([b.gps, b.gps_ip, b.gps_exifs, b.gps_html, b.taken_at]).toEqual([null, null, null, null, null]);
      expect([b.width, b.height, b.original_width, b.original_height]).toEqual([48, 48, 48, 48]);
      expect(b.rotation).toBe(0);
      expect(res.text).toContain('"crop_x":0.0,"crop_y":0.0,"crop_w":0.0,"crop_h":0.0');
      expect(b.created_at).toBe(isoWithOffset(at));
      expect(b.updated_at).toBe(isoWithOffset(at));
      expect([b.page, b.processed, b.processing_error]).toEqual([1, false, null]);
    });

    it("stores the image and exactly one new blob file holding the bytes", async () => {
      expect(await albumCount(t, album)).toBe(1);
      const added = (await storedFiles(t)).filter((f) => !filesBefore.includes(f));
      expect(added).toHaveLength(1);
      expect(added[0]).toMatch(/^blobs\/[0-9a-f]{2}\/[0-9a-f-]{36}$/);
      const original = await binary(t.http().get(pathOf(res.body.original_url)));
      expect(original.status).toBe(200);
      expect(Buffer.compare(original.body as Buffer, png)).toBe(0);
    });
  });

  it("nests metadatas and keeps the client's location", async () => {
    const album = freshAlbum();
    const res = await upload(t, {
      album,
      fields: {
        "metadatas[meta]": "data",
        "metadatas[a][b]": "c",
        "location[latitude]": "-33.8688",
        "location[longitude]": "151.2093",
        "location[accuracy]": "12.5",
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.metadatas).toEqual({ meta: "data", a: { b: "c" } });
    expect(res.body.infos.location).toEqual({ accuracy: 12.5, latitude: -33.8688, longitude: 151.2093 });
    expect(res.body.gps_html).toEqual([-33.8688, 151.2093]);
    expect(res.body.gps).toEqual([-33.8688, 151.2093]);
  });

  it("reads EXIF from a JPEG: DateTimeOriginal, taken_at and the GPS position", async () => {
    const album = freshAlbum();
    const jpg = await jpegWithExif({
      width: 64,
      height: 40,
      make: "Canon",
      model: "EOS 5D",
      dateTimeOriginal: "2018:01:01 08:00:00",
      gps: { latitude: 48.8584, longitude: -2.2945 },
    });
    const res = await upload(t, { album, bytes: jpg, filename: "IMG_0001.JPG" });
    expect(res.status).toBe(200);
    const b = res.body;
    expect(b.exifs.DateTimeOriginal).toBe("2018:01:01 08:00:00");
    expect(b.exifs.Make).toBe("Canon");
    expect(b.exifs.Model).toBe("EOS 5D");
    expect(b.taken_at).toBe("2018-01-01T08:00:00.000+00:00");
    expect(b.gps_exifs).toHaveLength(2);
    expect(b.gps_exifs[0]).toBeCloseTo(48.8584, 4);
    expect(b.gps_exifs[1]).toBeCloseTo(-2.2945, 4);
    expect(b.gps).toEqual(b.gps_exifs);
    expect(b.gps_html).toBeNull();
    expect([b.format, b.infos.format, b.filename, b.infos.original_filename]).toEqual(["jpeg", "jpeg", "IMG_0001", "IMG_0001"]);
    expect([b.width, b.height]).toEqual([64, 40]);
    expect(b.infos.etag).toBe(md5(jpg));
  });

  it("prefers the camera's position over the client's", async () => {
    const album = freshAlbum();
    const jpg = await jpegWithExif({ gps: { latitude: 10, longitude: 20 } });
    const res = await upload(t, { album, bytes: jpg, filename: "a.jpg", fields: { latitude: "1", longitude: "2" } });
    expect(res.status).toBe(200);
    expect(res.body.gps_html).toEqual([1, 2]);
    expect(res.body.gps[0]).toBeCloseTo(10, 4);
    expect(res.body.gps[1]).toBeCloseTo(20, 4);
  });

  it("accepts the family's trailing-slash route", async () => {
    const album = freshAlbum();
    const token = await t.token(["image_upload"], album);
    const res = await t
      .http()
      .post(`/api/v1/albums/${album}/images/`)
      .set("Authorization", t.auth(token))
      .attach("file", await fixturePng(), "Trailing.png");
    expect(res.status).toBe(200);
    expect(res.body.filename).toBe("Trailing");
    expect(await albumCount(t, album)).toBe(1);
  });

  it("accepts a 255-character title, counted in characters", async () => {
    const album = freshAlbum();
    const res = await upload(t, { album, fields: { title: "é".repeat(255) } });
    expect(res.status).toBe(200);
    expect(res.body.title).toBe("é".repeat(255));
  });

  it("keeps a UTF-8 file name as sent", async () => {
    const res = await upload(t, { album: freshAlbum(), filename: "Café été ✓.png" });
    expect(res.status).toBe(200);
    expect(res.body.filename).toBe("Café été ✓");
    expect(res.body.infos.original_filename).toBe("Café été ✓");
  });

  it("uses only the last path segment of the file name", async () => {
    const res = await upload(t, { album: freshAlbum(), filename: "C:\\Users\\me\\holiday.final.png" });
    expect(res.status).toBe(200);
    expect(res.body.filename).toBe("holiday.final");
  });

  it("stores a blank title as null", async () => {
    const res = await upload(t, { album: freshAlbum(), fields: { title: "   " } });
    expect(res.status).toBe(200);
    expect(res.body.title).toBeNull();
  });

  it("gives each upload its own blob, even of identical bytes", async () => {
    const album = freshAlbum();
    const png = await fixturePng();
    const a = await upload(t, { album, bytes: png });
    const b = await upload(t, { album, bytes: png });
    expect(a.body.id).not.toBe(b.body.id);
    expect(new URL(a.body.original_url).pathname).not.toBe(new URL(b.body.original_url).pathname);
    expect(await albumCount(t, album)).toBe(2);
  });
});

describe("refused uploads store nothing", () => {
  /** Runs `send` and checks the error, the album's count and the blob store's files. */
  const refusedOn = async (app: TestApp, album: string, status: number, code: string, send: () => PromiseLike<{ status: number; body: any; headers: any }>) => {
    const count = await albumCount(app, album);
    const files = await storedFiles(app);
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(r.body.error.code).toBe(code);
    expect(r.headers["x-message"]).toBe(asXMessage(r.body.error.message));
    expect(r.headers["x-token"]).toBeUndefined();
    expect(await albumCount(app, album)).toBe(count);
    expect(await storedFiles(app)).toEqual(files);
    return r;
  };
  const refused = (album: string, status: number, code: string, opts: UploadOptions) =>
    refusedOn(t, album, status, code, () => upload(t, { album, ...opts }));

  describe("413 over IMAGE_API_MAX_UPLOAD_BYTES", () => {
    let small: TestApp;
    let noise: Buffer;
    beforeAll(async () => {
      small = await startTestApp({ IMAGE_API_MAX_UPLOAD_BYTES: "10240" });
      // Random pixels do not compress: a real ~50 kB PNG.
      const raw = Buffer.from(Array.from({ length: 128 * 128 * 3 }, (_, i) => (i * 7919 + ((i * i) % 251)) % 256));
      noise = await sharp(raw, { raw: { width: 128, height: 128, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    });
    afterAll(() => small.close());

    it("refuses a 50 kB image on a 10 kB limit", async () => {
      expect(noise.byteLength).toBeGreaterThan(45_000);
      const album = freshAlbum();
      const r = await refusedOn(small, album, 413, "payload_too_large", () => upload(small, { album, bytes: noise, filename: "big.png" }));
      expect(r.body.error.message).toBe("payload exceeds the limit of 10240 bytes");
    });

    it("still takes an image under the limit", async () => {
      const album = freshAlbum();
      const r = await upload(small, { album });
      expect(r.status).toBe(200);
      expect(await albumCount(small, album)).toBe(1);
    });
  });

  it("415 for bytes that are not an image", async () => {
    const album = freshAlbum();
    const r = await refused(album, 415, "unsupported_media_type", { bytes: Buffer.from("just some text\n".repeat(20)), filename: "notes.txt" });
    expect(r.body.error.message).toBe("file is not a supported image");
  });

  it("415 for an image type it cannot read (SVG)", async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    await refused(freshAlbum(), 415, "unsupported_media_type", { bytes: svg, filename: "a.svg" });
  });

  it("415 for a truncated PNG", async () => {
    const png = await fixturePng(200, 200, "#FF0000");
    await refused(freshAlbum(), 415, "unsupported_media_type", { bytes: png.subarray(0, Math.floor(png.byteLength / 2)), filename: "cut.png" });
  });

  it("415 for a body that is not multipart", async () => {
    const album = freshAlbum();
    const token = await t.token(["image_upload"], album);
    await refusedOn(t, album, 415, "unsupported_media_type", () =>
      t.http().post(`/api/v1/albums/${album}/images`).set("Authorization", t.auth(token)).send({ title: "json" }),
    );
    await refusedOn(t, album, 415, "unsupported_media_type", () =>
      t.http().post(`/api/v1/albums/${album}/images`).set("Authorization", t.auth(token)).type("form").send("title=form"),
    );
    await refusedOn(t, album, 415, "unsupported_media_type", () =>
      t.http().post(`/api/v1/albums/${album}/images`).set("Authorization", t.auth(token)).set("Content-Type", "image/png").send(Buffer.from("x")),
    );
  });

  it("422 without the file field", async () => {
    const album = freshAlbum();
    const token = await t.token(["image_upload"], album);
    const r = await refusedOn(t, album, 422, "invalid_parameters", () =>
      t.http().post(`/api/v1/albums/${album}/images`).set("Authorization", t.auth(token)).field("title", "no file"),
    );
    expect(r.body.error.details).toEqual([{ field: "file", message: "is required (multipart field 'file')" }]);
  });

  it("422 for the file under another field name", async () => {
    const album = freshAlbum();
    const token = await t.token(["image_upload"], album);
    await refusedOn(t, album, 422, "invalid_parameters", () =>
      t.http().post(`/api/v1/albums/${album}/images`).set("Authorization", t.auth(token)).attach("image", Buffer.from("x"), "a.png"),
    );
  });

  it("422 for an empty file", async () => {
    const r = await refused(freshAlbum(), 422, "invalid_parameters", { bytes: Buffer.alloc(0), filename: "empty.png" });
    expect(r.body.error.details).toEqual([{ field: "file", message: "is required and must not be empty" }]);
  });

  it("422 for a title over 255 characters", async () => {
    const r = await refused(freshAlbum(), 422, "invalid_parameters", { fields: { title: "x".repeat(256) } });
    expect(r.body.error.details).toEqual([{ field: "title", message: "must be at most 255 characters" }]);
  });

  it("422 for metadatas that is not an object", async () => {
    const r = await refused(freshAlbum(), 422, "invalid_parameters", { fields: { metadatas: "plain" } });
    expect(r.body.error.details).toEqual([{ field: "metadatas", message: "send as metadatas[key]=value" }]);
  });

  it("422 for half a location or one out of range", async () => {
    await refused(freshAlbum(), 422, "invalid_parameters", { fields: { latitude: "48.8" } });
    await refused(freshAlbum(), 422, "invalid_parameters", { fields: { latitude: "91", longitude: "2" } });
    await refused(freshAlbum(), 422, "invalid_parameters", { fields: { latitude: "north", longitude: "2" } });
  });

  it("403 without image_upload on the album", async () => {
    const album = freshAlbum();
    const r = await refused(album, 403, "forbidden", { token: await t.token(["image_list", "image_duplicate"], album) });
    expect(r.body.error.message).toBe(`token lacks image_upload on album ${album}`);
    await refused(album, 403, "forbidden", { token: await t.token(["image_upload"], `${album}-OTHER`) });
  });

  it("401 without a token", async () => {
    const album = freshAlbum();
    const r = await refusedOn(t, album, 401, "unauthenticated", async () =>
      t.http().post(`/api/v1/albums/${album}/images`).attach("file", await fixturePng(), "a.png"),
    );
    expect(r.body.error.message).toBe("missing Authorization header");
  });

  it("404 for an invalid album id", async () => {
    const album = "bad album!";
    const token = await t.token(["image_upload"], album);
    const before = await storedFiles(t);
    const r = await t
      .http()
      .post(`/api/v1/albums/${encodeURIComponent(album)}/images`)
      .set("Authorization", t.auth(token))
      .attach("file", await fixturePng(), "a.png");
    expect(r.status).toBe(404);
    expect(r.body.error).toEqual({ code: "not_found", message: "album bad album! not found" });
    expect(await storedFiles(t)).toEqual(before);
  });
});
