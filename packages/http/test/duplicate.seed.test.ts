import { jwtVerify } from "jose";
import type request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken, withBadSignature, withPayload } from "@image-api/testkit";
import { isoWithOffset } from "../src/present/image.presenter.js";
import {
  albumCount,
  asXMessage,
  binary,
  blobExists,
  blobKeyOf,
  decodeJwt,
  deliveryUrls,
  fixturePng,
  freshAlbum,
  headerOrder,
  IMAGE_KEYS,
  nowSeconds,
  pathOf,
  SECRET,
  startTestApp,
  storedFiles,
  TIMESTAMP_RE,
  uploaded,
  UUID_RE,
  type TestApp,
} from "./harness.js";
import { SEED_HEADERS, SEED_ORDER, TRANSPORT } from "./seed-contract.js";

const LAT = 48.861934399999996;
const LON = 2.348967;
const ALL = ["image_upload", "image_list", "image_duplicate", "image_delete", "image_caption", "image_rotate", "image_crop"] as const;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const duplicate = (id: string, token: string) => t.http().post(`/api/v1/images/${id}/duplicate`).set("Authorization", t.auth(token));

/** Path of a delivery URL without its query (expiry and signature). */
const pathPart = (url: string): string => new URL(url).pathname;

describe("POST /api/v1/images/:id/duplicate: the seed exchange", () => {
  const album = freshAlbum("SEED");
  let png: Buffer;
  let source: Record<string, any>;
  let edited: Record<string, any>;
  let res: Awaited<ReturnType<typeof duplicate>>;
  let callerToken: string;
  let duplicatedAt: Date;

  beforeAll(async () => {
    png = await fixturePng();
    const token = await t.token([...ALL], album);
    source = await uploaded(t, {
      album,
      token,
      bytes: png,
      filename: "Super Image.png",
      fields: {
        title: "Uploaded title",
        "metadatas[meta]": "data",
        "metadatas[customer][name]": "ACME",
        latitude: String(LAT),
        longitude: String(LON),
        accuracy: "36",
      },
    });
    t.clock.advance(1_000);
    const put = await t
      .http()
      .put(`/api/v1/images/${source.id}`)
      .set("Authorization", t.auth(token))
      .type("form")
      .send("title=Caption+title&description=A+description&rotation=90&crop_x=3&crop_y=2&crop_w=10&crop_h=11");
    expect(put.status).toBe(200);
    edited = put.body;
    t.clock.advance(3 * 3600_000 + 12 * 60_000 + 5_123);
    duplicatedAt = t.clock.now();
    callerToken = await t.token(["image_duplicate"], album);
    res = await duplicate(source.id, callerToken);
  });

  it("answers 200", () => {
    expect(res.status).toBe(200);
  });

  it("sends every fixed header with the seed's exact value", () => {
    for (const [name, value] of SEED_HEADERS) expect(res.headers[name], name).toBe(value);
  });

  it("writes the headers in the seed's order", () => {
    const order = headerOrder(res);
    expect(order.filter((h) => !TRANSPORT.has(h))).toEqual(SEED_ORDER);
    // Transport headers, if any, only follow the application's.
    const lastOwn = order.indexOf("Content-Length");
    expect(order.slice(lastOwn + 1).every((h) => TRANSPORT.has(h))).toBe(true);
  });

  it("sends a UUID X-Request-Id and a six-decimal X-Runtime", () => {
    expect(res.headers["x-request-id"]).toMatch(UUID_RE);
    expect(res.headers["x-runtime"]).toMatch(/^\d+\.\d{6}$/);
  });

  it("sends a Content-Length equal to the body's byte length", () => {
    expect(Number(res.headers["content-length"])).toBe(Buffer.byteLength(res.text, "utf8"));
  });

  it("sends an X-token: HS256 with the family's header, the caller's claims, iat now and exp four hours on", async () => {
    const xtoken = res.headers["x-token"] as string;
    expect(Buffer.from(xtoken.split(".")[0]!, "base64url").toString("utf8")).toBe('{"typ":"JWT","alg":"HS256"}');
    const { payload, protectedHeader } = await jwtVerify(xtoken, new TextEncoder().encode(SECRET), { algorithms: ["HS256"] });
    expect(protectedHeader).toEqual({ typ: "JWT", alg: "HS256" });
    const iat = Math.floor(duplicatedAt.getTime() / 1000);
    const caller = decodeJwt(callerToken).payload;
    expect(payload).toEqual({ exp: iat + 14_400, iat, user_id: caller.user_id, abilities: { [album]: { Access: { image_duplicate: true } } } });
  });

  it("returns exactly the 35 keys, in the seed's order", () => {
    expect(Object.keys(res.body)).toEqual([...IMAGE_KEYS]);
    expect(IMAGE_KEYS).toHaveLength(35);
    // The wire text itself starts and ends as the seed's does.
    expect(res.text.startsWith(`{"id":"${res.body.id}","public_id":"${res.body.id}","infos":{"bytes":`)).toBe(true);
    expect(res.text).toMatch(/,"album_id":"[^"]+","thumbnails":\{"original":"[^"]+","full_no_sharinpix":"[^"]+","full":"[^"]+","large":"[^"]+","mini":"[^"]+"\}\}$/);
  });

  it("types every field as the seed does", () => {
    const b = res.body;
    const type = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
    expect(Object.fromEntries(IMAGE_KEYS.map((k) => [k, type(b[k])]))).toEqual({
      id: "string",
      public_id: "string",
      infos: "object",
      exifs: "object",
      gps: "array",
      gps_ip: "null",
      gps_exifs: "null",
      gps_html: "array",
      created_at: "string",
      updated_at: "string",
      taken_at: "null",
      width: "number",
      height: "number",
      rotation: "number",
      crop_x: "number",
      crop_y: "number",
      crop_w: "number",
      crop_h: "number",
      metadatas: "object",
      original_url: "string",
      original_width: "number",
      original_height: "number",
      external_urls: "object",
      filename: "string",
      format: "string",
      title: "string",
      description: "string",
      page: "number",
      group_id: "string",
      color: "string",
      size: "number",
      processed: "boolean",
      processing_error: "null",
      album_id: "string",
      thumbnails: "object",
    });
    for (const k of ["width", "height", "rotation", "original_width", "original_height", "page", "size"])
      expect(Number.isInteger(b[k]), k).toBe(true);
    expect(Object.keys(b.external_urls)).toEqual(["fill100", "fit2000", "mini", "large", "full"]);
    expect(Object.keys(b.thumbnails)).toEqual(["original", "full_no_sharinpix", "full", "large", "mini"]);
  });

  it("prints the copied crop as floats in the raw text", () => {
    expect(res.text).toContain('"rotation":90,"crop_x":3.0,"crop_y":2.0,"crop_w":10.0,"crop_h":11.0,');
  });

  it("gets a new id, public_id = id, group_id = the source, same album", () => {
    expect(res.body.id).toMatch(UUID_RE);
    expect(res.body.id).not.toBe(source.id);
    expect(res.body.public_id).toBe(res.body.id);
    expect(res.body.group_id).toBe(source.id);
    expect(res.body.album_id).toBe(album);
  });

  it("copies infos, exifs, metadatas, title, description, rotation, crop and gps from the (edited) source", () => {
    const b = res.body;
    expect(b.infos).toEqual(source.infos);
    expect(b.infos.location).toEqual({ accuracy: 36, latitude: LAT, longitude: LON });
    expect(b.exifs).toEqual({});
    expect(b.metadatas).toEqual({ meta: "data", customer: { name: "ACME" } });
    expect(b.title).toBe("Caption title");
    expect(b.description).toBe("A description");
    expect(b.rotation).toBe(90);
    expect([b.crop_x, b.crop_y, b.crop_w, b.crop_h]).toEqual([3, 2, 10, 11]);
    expect(b.gps).toEqual([LAT, LON]);
    expect(b.gps_html).toEqual([LAT, LON]);
    expect(b.gps_ip).toBeNull();
    expect(b.gps_exifs).toBeNull();
    expect(b.taken_at).toBeNull();
    for (const k of ["filename", "format", "color", "size", "processed", "processing_error", "page"]) expect(b[k], k).toEqual(edited[k]);
    expect(b.color).toBe("#7D7D7D");
    expect(b.size).toBe(png.byteLength);
    expect(b.filename).toBe("Super Image");
  });

  it("copies width/height (crop 10×11 turned 90°) and the original size", () => {
    expect([res.body.width, res.body.height]).toEqual([11, 10]);
    expect([res.body.width, res.body.height]).toEqual([edited.width, edited.height]);
    expect([res.body.original_width, res.body.original_height]).toEqual([48, 48]);
  });

  it("stamps created_at and updated_at with the time of the copy", () => {
    const expected = isoWithOffset(duplicatedAt);
    expect(res.body.created_at).toMatch(TIMESTAMP_RE);
    expect(res.body.created_at).toBe(expected);
    expect(res.body.updated_at).toBe(expected);
    expect(res.body.created_at).not.toBe(source.created_at);
  });

  it("points every URL at the source's blob and renditions", async () => {
    const mine = deliveryUrls(res.body);
    const theirs = deliveryUrls(edited);
    expect(Object.keys(mine)).toHaveLength(11);
    for (const [k, url] of Object.entries(mine)) expect(pathPart(url), k).toBe(pathPart(theirs[k]!));
    // Signed at the same instant, the source's URLs are the very same strings.
    const now = await t.http().get(`/api/v1/images/${source.id}`).set("Authorization", t.auth(await t.token(["image_list"], album)));
    expect(deliveryUrls(now.body)).toEqual(mine);
    expect(pathPart(mine.original_url!)).toContain(`/${await blobKeyOf(t, source.id)}/`);
  });

  it("serves every URL of the copy", async () => {
    for (const [k, url] of Object.entries(deliveryUrls(res.body))) {
      const r = await binary(t.http().get(pathOf(url)));
      expect(r.status, k).toBe(200);
      expect(r.headers["content-type"], k).toBe("image/png");
    }
    const original = await binary(t.http().get(pathOf(res.body.original_url)));
    expect(Buffer.compare(original.body as Buffer, png)).toBe(0);
  });

  it("stores the copy: it is listed in the album and readable by id", async () => {
    expect(await albumCount(t, album)).toBe(2);
    const got = await t.http().get(`/api/v1/images/${res.body.id}`).set("Authorization", t.auth(await t.token(["image_list"], album)));
    expect(got.status).toBe(200);
    expect({ ...got.body, original_url: 0, thumbnails: 0, external_urls: 0 }).toEqual({ ...res.body, original_url: 0, thumbnails: 0, external_urls: 0 });
  });

  it("keeps the source as it was", async () => {
    const got = await t.http().get(`/api/v1/images/${source.id}`).set("Authorization", t.auth(await t.token(["image_list"], album)));
    expect(got.body.group_id).toBeNull();
    expect(got.body.updated_at).toBe(edited.updated_at);
    expect(got.body.created_at).toBe(source.created_at);
  });
});

describe("duplicate of an unedited image", () => {
  it("prints the zero crop as 0.0 and keeps the upload's fields", async () => {
    const album = freshAlbum();
    const src = await uploaded(t, { album });
    const r = await duplicate(src.id, await t.token(["image_duplicate"], album));
    expect(r.status).toBe(200);
    expect(r.text).toContain('"rotation":0,"crop_x":0.0,"crop_y":0.0,"crop_w":0.0,"crop_h":0.0,');
    expect([r.body.width, r.body.height, r.body.original_width, r.body.original_height]).toEqual([48, 48, 48, 48]);
    expect(r.body.gps).toBeNull();
    expect(r.body.gps_html).toBeNull();
    expect(r.body.title).toBeNull();
    expect(r.body.metadatas).toEqual({});
  });
});

describe("duplicate of a duplicate", () => {
  it("records the root of the family as group_id", async () => {
    const album = freshAlbum();
    const src = await uploaded(t, { album });
    const token = await t.token(["image_duplicate"], album);
    const first = await duplicate(src.id, token);
    const second = await duplicate(first.body.id, token);
    expect(second.status).toBe(200);
    expect(second.body.group_id).toBe(src.id);
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.body.id).not.toBe(src.id);
    expect(await albumCount(t, album)).toBe(3);
  });
});

describe("X-token refresh", () => {
  it("keeps a caller's later exp", async () => {
    const album = freshAlbum();
    const src = await uploaded(t, { album });
    const later = nowSeconds(t) + 30_000;
    const token = await t.token(["image_duplicate"], album, { exp: later });
    const r = await duplicate(src.id, token);
    expect(r.status).toBe(200);
    const { payload } = await jwtVerify(r.headers["x-token"] as string, new TextEncoder().encode(SECRET));
    expect(payload.exp).toBe(later);
    expect(payload.iat).toBe(nowSeconds(t));
  });

  it("renews a caller's sooner exp to four hours from now", async () => {
    const album = freshAlbum();
    const src = await uploaded(t, { album });
    const now = nowSeconds(t);
    const token = await mintToken({
      secret: SECRET,
      claims: { exp: now + 60, iat: now - 100, user_id: "u-1", abilities: { [album]: { Access: { image_duplicate: true } } } },
    });
    const r = await duplicate(src.id, token);
    expect(r.status).toBe(200);
    const { payload } = decodeJwt(r.headers["x-token"] as string);
    expect(payload).toEqual({ exp: nowSeconds(t) + 14_400, iat: nowSeconds(t), user_id: "u-1", abilities: { [album]: { Access: { image_duplicate: true } } } });
  });
});

describe("X-Request-Id", () => {
  let id: string;
  let token: string;
  beforeAll(async () => {
    const album = freshAlbum();
    id = (await uploaded(t, { album })).id;
    token = await t.token(["image_duplicate"], album);
  });

  it("echoes a well-formed incoming id", async () => {
    const r = await duplicate(id, token).set("X-Request-Id", "req-2019.04.08:abc_123");
    expect(r.status).toBe(200);
    expect(r.headers["x-request-id"]).toBe("req-2019.04.08:abc_123");
  });

  it("replaces a malformed incoming id with a fresh UUID", async () => {
    const r = await duplicate(id, token).set("X-Request-Id", "bad id with spaces");
    expect(r.status).toBe(200);
    expect(r.headers["x-request-id"]).toMatch(UUID_RE);
  });

  it("gives each request its own id", async () => {
    const [a, b] = await Promise.all([duplicate(id, token), duplicate(id, token)]);
    expect(a.headers["x-request-id"]).not.toBe(b.headers["x-request-id"]);
  });
});

describe("Authorization schemes", () => {
  it("accepts Bearer <jwt> as well as Token token=\"…\"", async () => {
    const album = freshAlbum();
    const src = await uploaded(t, { album });
    const token = await t.token(["image_duplicate"], album);
    const bearer = await t.http().post(`/api/v1/images/${src.id}/duplicate`).set("Authorization", `Bearer ${token}`);
    expect(bearer.status).toBe(200);
    expect(bearer.body.group_id).toBe(src.id);
    const bare = await t.http().post(`/api/v1/images/${src.id}/duplicate`).set("Authorization", `Token token=${token}`);
    expect(bare.status).toBe(200);
    expect(await albumCount(t, album)).toBe(3);
  });
});

describe("40 concurrent duplicates of one image", () => {
  it("all succeed with distinct ids, and the album then holds 41 images", async () => {
    const album = freshAlbum("CONC");
    const src = await uploaded(t, { album });
    const token = await t.token(["image_duplicate"], album);
    const results = await Promise.all(Array.from({ length: 40 }, () => duplicate(src.id, token)));
    expect(results.map((r) => r.status)).toEqual(Array(40).fill(200));
    const ids = new Set(results.map((r) => r.body.id as string));
    expect(ids.size).toBe(40);
    expect(ids.has(src.id)).toBe(false);
    expect(results.every((r) => r.body.group_id === src.id)).toBe(true);
    const list = await t
      .http()
      .get(`/api/v1/albums/${album}/images?per_page=100`)
      .set("Authorization", t.auth(await t.token(["image_list"], album)));
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(41);
    expect(list.headers["x-total-count"]).toBe("41");
    expect(new Set(list.body.map((i: { id: string }) => i.id))).toEqual(new Set([src.id, ...ids]));
    const refs = await t.deps.images.blobReferences(await blobKeyOf(t, src.id))();
    expect(refs).toEqual({ _tag: "Right", right: 41 });
  });
});

describe("deleting the source or the copy", () => {
  const setup = async () => {
    const album = freshAlbum("DEL");
    const png = await fixturePng(48, 48, "#123456");
    const src = await uploaded(t, { album, bytes: png });
    const token = await t.token(["image_duplicate", "image_delete", "image_list"], album);
    const dup = await duplicate(src.id, token);
    expect(dup.status).toBe(200);
    const key = await blobKeyOf(t, src.id);
    // Render one rendition so there is a cached file beside the original.
    expect((await binary(t.http().get(pathOf(dup.body.thumbnails.mini)))).status).toBe(200);
    return { album, png, src, dup: dup.body as Record<string, any>, token, key };
  };
  const del = (id: string, token: string) => t.http().delete(`/api/v1/images/${id}`).set("Authorization", t.auth(token));

  it("source first: the copy stays whole, and the blob goes with the last image", async () => {
    const { png, src, dup, token, key } = await setup();
    expect((await del(src.id, token)).status).toBe(204);
    const got = await t.http().get(`/api/v1/images/${dup.id}`).set("Authorization", t.auth(token));
    expect(got.status).toBe(200);
    expect(got.body.group_id).toBe(src.id);
    const original = await binary(t.http().get(pathOf(got.body.original_url)));
    expect(original.status).toBe(200);
    expect(Buffer.compare(original.body as Buffer, png)).toBe(0);
    for (const url of Object.values(deliveryUrls(got.body))) expect((await binary(t.http().get(pathOf(url)))).status).toBe(200);
    expect(await blobExists(t, key)).toBe(true);

    expect((await del(dup.id, token)).status).toBe(204);
    expect(await blobExists(t, key)).toBe(false);
    expect((await storedFiles(t)).filter((f) => f.includes(key))).toEqual([]);
    expect((await binary(t.http().get(pathOf(got.body.original_url)))).status).toBe(404);
  });

  it("copy first: the source stays whole, and the blob goes with the last image", async () => {
    const { png, src, dup, token, key } = await setup();
    expect((await del(dup.id, token)).status).toBe(204);
    const got = await t.http().get(`/api/v1/images/${src.id}`).set("Authorization", t.auth(token));
    expect(got.status).toBe(200);
    const original = await binary(t.http().get(pathOf(got.body.original_url)));
    expect(Buffer.compare(original.body as Buffer, png)).toBe(0);
    expect(await blobExists(t, key)).toBe(true);

    expect((await del(src.id, token)).status).toBe(204);
    expect(await blobExists(t, key)).toBe(false);
    expect((await storedFiles(t)).filter((f) => f.includes(key))).toEqual([]);
  });

  it("duplicating a deleted source is a 404", async () => {
    const { src, token, album } = await setup();
    expect((await del(src.id, token)).status).toBe(204);
    const before = await albumCount(t, album);
    const r = await duplicate(src.id, token);
    expect(r.status).toBe(404);
    expect(await albumCount(t, album)).toBe(before);
  });
});

describe("refused duplicates change nothing", () => {
  const album = freshAlbum("ERR");
  let id: string;
  beforeAll(async () => {
    id = (await uploaded(t, { album })).id;
  });

  const claims = (access: Record<string, unknown>, where = album) => {
    const now = nowSeconds(t);
    return { exp: now + 3600, iat: now, user_id: "4ed6737b-fdec-499a-a1e2-92a027c079f6", abilities: { [where]: { Access: access } } };
  };

  /** Sends the request, then checks the error shape and that the album is untouched. */
  const refused = async (status: number, code: string, send: () => PromiseLike<request.Response>) => {
    const before = await albumCount(t, album);
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(Object.keys(r.body)).toEqual(["error"]);
    expect(r.body.error.code).toBe(code);
    expect(typeof r.body.error.message).toBe("string");
    expect(r.headers["x-message"]).toBe(asXMessage(r.body.error.message));
    expect(r.headers["x-token"]).toBeUndefined();
    expect(Number(r.headers["content-length"])).toBe(Buffer.byteLength(r.text));
    for (const [name, value] of SEED_HEADERS) expect(r.headers[name], name).toBe(value);
    expect(await albumCount(t, album)).toBe(before);
    expect(before).toBe(1);
    return r;
  };
  const post = (authorization?: string, target = id) => {
    const req = t.http().post(`/api/v1/images/${target}/duplicate`);
    return authorization === undefined ? req : req.set("Authorization", authorization);
  };

  describe("401", () => {
    it("without an Authorization header", async () => {
      const r = await refused(401, "unauthenticated", () => post());
      expect(r.body.error.message).toBe("missing Authorization header");
    });
    it("with a malformed Authorization header", async () => {
      const token = await t.token(["image_duplicate"], album);
      for (const header of ["Basic dXNlcjpwYXNz", `Token ${token}`, `Token token="${token}`, "Bearer", `Bearer ${token} extra`]) {
        const r = await refused(401, "unauthenticated", () => post(header));
        expect(r.body.error.message, header).toMatch(/malformed Authorization header|malformed token|invalid token/);
      }
    });
    it("with a bad signature", async () => {
      const token = await t.token(["image_duplicate"], album);
      const r = await refused(401, "unauthenticated", () => post(t.auth(withBadSignature(token))));
      expect(r.body.error.message).toBe("invalid token signature");
    });
    it("with a forged payload (signature of another token)", async () => {
      const token = await t.token(["image_list"], album);
      const forged = withPayload(token, claims({ image_duplicate: true }));
      const r = await refused(401, "unauthenticated", () => post(t.auth(forged)));
      expect(r.body.error.message).toBe("invalid token signature");
    });
    it("with a token signed by another secret", async () => {
      const token = await mintToken({ secret: "another-secret-0123456789-abcdefghijkl", claims: claims({ image_duplicate: true }) });
      await refused(401, "unauthenticated", () => post(t.auth(token)));
    });
    it("with an expired token", async () => {
      const now = nowSeconds(t);
      const token = await mintToken({ secret: SECRET, claims: { ...claims({ image_duplicate: true }), exp: now - 3600, iat: now - 18_000 } });
      const r = await refused(401, "unauthenticated", () => post(t.auth(token)));
      expect(r.body.error.message).toBe("token expired");
    });
    it("with an alg: none token", async () => {
      const token = await mintToken({ secret: SECRET, alg: "none", claims: claims({ image_duplicate: true }) });
      const r = await refused(401, "unauthenticated", () => post(t.auth(token)));
      expect(r.body.error.message).toBe("token algorithm not allowed");
    });
    it("with an HS512 token signed with the right secret", async () => {
      const token = await mintToken({ secret: SECRET, alg: "HS512", claims: claims({ image_duplicate: true }) });
      const r = await refused(401, "unauthenticated", () => post(t.auth(token)));
      expect(r.body.error.message).toBe("token algorithm not allowed");
    });
    it("with a token without exp", async () => {
      const { exp: _exp, ...rest } = claims({ image_duplicate: true });
      const token = await mintToken({ secret: SECRET, claims: rest });
      const r = await refused(401, "unauthenticated", () => post(t.auth(token)));
      expect(r.body.error.message).toBe("token has no exp claim");
    });
    it("with a garbage token", async () => {
      for (const garbage of ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "...."]) {
        const r = await refused(401, "unauthenticated", () => post(t.auth(garbage)));
        expect(r.body.error.message, garbage).toMatch(/malformed token|invalid token/);
      }
    });
    it("sends WWW-Authenticate with the 401", async () => {
      const r = await refused(401, "unauthenticated", () => post());
      expect(r.headers["www-authenticate"]).toBe('Token realm="Image API"');
    });
  });

  describe("403", () => {
    it("when the ability is missing", async () => {
      const token = await mintToken({ secret: SECRET, claims: claims({}) });
      const r = await refused(403, "forbidden", () => post(t.auth(token)));
      expect(r.body.error.message).toBe(`token lacks image_duplicate on album ${album}`);
    });
    it("when the ability is false", async () => {
      const token = await mintToken({ secret: SECRET, claims: claims({ image_duplicate: false }) });
      await refused(403, "forbidden", () => post(t.auth(token)));
    });
    it("when the ability is the string \"true\"", async () => {
      const token = await mintToken({ secret: SECRET, claims: claims({ image_duplicate: "true" }) });
      await refused(403, "forbidden", () => post(t.auth(token)));
    });
    it("when the ability is granted on another album", async () => {
      const token = await t.token(["image_duplicate"], `${album}X`);
      await refused(403, "forbidden", () => post(t.auth(token)));
    });
    it("when the token only grants image_list", async () => {
      const token = await t.token(["image_list"], album);
      await refused(403, "forbidden", () => post(t.auth(token)));
    });
    it("when the token has no abilities claim", async () => {
      const { abilities: _a, ...rest } = claims({ image_duplicate: true });
      const token = await mintToken({ secret: SECRET, claims: rest });
      await refused(403, "forbidden", () => post(t.auth(token)));
    });
  });

  describe("404", () => {
    it("for an unknown id", async () => {
      const token = await t.token(["image_duplicate"], album);
      const r = await refused(404, "not_found", () => post(t.auth(token), "2f1c7c8e-0b9e-4a8f-9d5e-3c2b1a0f9e8d"));
      expect(r.body.error.message).toBe("image 2f1c7c8e-0b9e-4a8f-9d5e-3c2b1a0f9e8d not found");
    });
    it("for malformed ids", async () => {
      const token = await t.token(["image_duplicate"], album);
      for (const bad of ["not-a-uuid", encodeURIComponent("../etc/passwd"), `${id}x`, id.toUpperCase().replace(/-/g, "")]) {
        const r = await refused(404, "not_found", () => post(t.auth(token), bad));
        expect(r.body.error.message, bad).toBe(`image ${decodeURIComponent(bad)} not found`);
      }
    });
    it("for an unknown route", async () => {
      const token = await t.token(["image_duplicate"], album);
      const r = await refused(404, "not_found", () => t.http().post(`/api/v1/images/${id}/triplicate`).set("Authorization", t.auth(token)));
      expect(r.body.error.message).toBe("no such route");
      await refused(404, "not_found", () => t.http().post(`/api/v2/images/${id}/duplicate`).set("Authorization", t.auth(token)));
    });
    it("for GET on the duplicate route", async () => {
      const token = await t.token(["image_duplicate"], album);
      await refused(404, "not_found", () => t.http().get(`/api/v1/images/${id}/duplicate`).set("Authorization", t.auth(token)));
    });
  });
});
