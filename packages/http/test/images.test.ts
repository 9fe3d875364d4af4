import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "@image-api/testkit";
import { encodeListingCursor, type Ability, type ImageId } from "@image-api/core";
import { isoWithOffset } from "../src/present/image.presenter.js";
import {
  albumCount,
  asXMessage,
  deliveryUrls,
  freshAlbum,
  IMAGE_KEYS,
  nowSeconds,
  SECRET,
  startTestApp,
  uploaded,
  type TestApp,
} from "./harness.js";
import { ACCESS_HEADERS, BODY_HEADERS, ownHeaderOrder, SEED_ORDER } from "./seed-contract.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const get = async (id: string, album: string, abilities: readonly Ability[] = ["image_list"]) =>
  t.http().get(`/api/v1/images/${id}`).set("Authorization", t.auth(await t.token(abilities, album)));
const put = async (id: string, album: string, abilities: readonly Ability[], body: string | object) => {
  const req = t.http().put(`/api/v1/images/${id}`).set("Authorization", t.auth(await t.token(abilities, album)));
  return typeof body === "string" ? req.type("form").send(body) : req.send(body);
};
const list = async (album: string, query = "", abilities: readonly Ability[] = ["image_list"]) =>
  t.http().get(`/api/v1/albums/${album}/images${query}`).set("Authorization", t.auth(await t.token(abilities, album)));

/** The stored image, read through the API with a list token. */
const current = async (id: string, album: string) => (await get(id, album)).body as Record<string, any>;

const expectError = (r: { status: number; body: any; headers: any }, status: number, code: string) => {
  expect(r.status).toBe(status);
  expect(r.body.error.code).toBe(code);
  expect(r.headers["x-message"]).toBe(asXMessage(r.body.error.message));
  expect(r.headers["x-token"]).toBeUndefined();
};

describe("GET /api/v1/images/:id", () => {
  const album = freshAlbum("GET");
  let image: Record<string, any>;
  beforeAll(async () => {
    image = await uploaded(t, { album, fields: { title: "T" } });
  });

  it("returns the image with all X-access-* false for an image_list token", async () => {
    const r = await get(image.id, album);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual([...IMAGE_KEYS]);
    expect(r.body.id).toBe(image.id);
    expect(r.body.title).toBe("T");
    expect([r.headers["x-access-crop"], r.headers["x-access-rotate"], r.headers["x-access-duplicate"]]).toEqual(["false", "false", "false"]);
  });

  it("reports the abilities the token grants on the image's album", async () => {
    const r = await get(image.id, album, ["image_list", "image_crop", "image_duplicate"]);
    expect([r.headers["x-access-crop"], r.headers["x-access-rotate"], r.headers["x-access-duplicate"]]).toEqual(["true", "false", "true"]);
    const all = await get(image.id, album, ["image_list", "image_crop", "image_rotate", "image_duplicate"]);
    expect([all.headers["x-access-crop"], all.headers["x-access-rotate"], all.headers["x-access-duplicate"]]).toEqual(["true", "true", "true"]);
  });

  it("places the X-access-* headers right after Expires", async () => {
    const r = await get(image.id, album);
    const afterExpires = SEED_ORDER.indexOf("Expires") + 1;
    expect(ownHeaderOrder(r)).toEqual([...SEED_ORDER.slice(0, afterExpires), ...ACCESS_HEADERS, ...SEED_ORDER.slice(afterExpires)]);
  });

  it("403 without image_list, and for a token of another album", async () => {
    expectError(await get(image.id, album, ["image_crop", "image_duplicate"]), 403, "forbidden");
    expectError(await get(image.id, `${album}X`, ["image_list"]), 403, "forbidden");
  });

  it("404 for an unknown or malformed id", async () => {
    expectError(await get("0f8fad5b-d9cb-469f-a165-70867728950e", album), 404, "not_found");
    expectError(await get("nope", album), 404, "not_found");
  });
});

describe("GET /api/v1/albums/:album_id/images", () => {
  const album = freshAlbum("LIST");
  const ids: string[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) {
      ids.push((await uploaded(t, { album, fields: { title: `n${i}` } })).id);
      t.clock.advance(1_000);
    }
  });

  it("returns a bare array, newest first, with X-Total-Count", async () => {
    const r = await list(album);
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body)).toBe(true);
    expect(r.body.map((i: { id: string }) => i.id)).toEqual([...ids].reverse());
    expect(r.body.map((i: { title: string }) => i.title)).toEqual(["n4", "n3", "n2", "n1", "n0"]);
    expect(Object.keys(r.body[0])).toEqual([...IMAGE_KEYS]);
    expect(r.headers["x-total-count"]).toBe("5");
    const path = `/api/v1/albums/${album}/images`;
    expect(r.headers.link).toBe(`<${path}?page=1&per_page=100>; rel="first", <${path}?page=1&per_page=100>; rel="last"`);
  });

  it("pages with page and per_page, and links first/last/prev/next", async () => {
    const path = `/api/v1/albums/${album}/images`;
    const link = (p: number, rel: string, cursor?: string) => `<${path}?page=${p}&per_page=2${cursor ? `&cursor=${cursor}` : ""}>; rel="${rel}"`;
    // The next link also carries a cursor just past the page's last image (listing-cursor.test.ts follows them).
    const pastLast = (r: { body: { id: string; created_at: string }[] }) =>
      encodeListingCursor({ direction: "after", position: { createdAt: new Date(r.body.at(-1)!.created_at), id: r.body.at(-1)!.id as ImageId } });
    const p1 = await list(album, "?page=1&per_page=2");
    expect(p1.body.map((i: { id: string }) => i.id)).toEqual([ids[4], ids[3]]);
    expect(p1.headers["x-total-count"]).toBe("5");
    expect(p1.headers.link).toBe([link(1, "first"), link(3, "last"), link(2, "next", pastLast(p1))].join(", "));
    const p2 = await list(album, "?page=2&per_page=2");
    expect(p2.body.map((i: { id: string }) => i.id)).toEqual([ids[2], ids[1]]);
    expect(p2.headers.link).toBe([link(1, "first"), link(3, "last"), link(1, "prev"), link(3, "next", pastLast(p2))].join(", "));
    const p3 = await list(album, "?page=3&per_page=2");
    expect(p3.body.map((i: { id: string }) => i.id)).toEqual([ids[0]]);
    expect(p3.headers.link).toBe([link(1, "first"), link(3, "last"), link(2, "prev")].join(", "));
    const past = await list(album, "?page=9&per_page=2");
    expect(past.status).toBe(200);
    expect(past.body).toEqual([]);
    expect(past.headers["x-total-count"]).toBe("5");
  });

  it("accepts per_page=500", async () => {
    const r = await list(album, "?per_page=500");
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(5);
  });

  it("422 for per_page 501, 0 or abc, and for a bad page", async () => {
    for (const q of ["?per_page=501", "?per_page=0", "?per_page=abc", "?per_page=-1", "?per_page=2.5", "?page=0", "?page=x", "?page[]=1", "?page[x]=1", "?per_page[]=5", "?page=1&page=2"]) {
      const r = await list(album, q);
      expectError(r, 422, "invalid_parameters");
      expect(r.body.error.details, q).toHaveLength(1);
      expect(r.body.error.details[0].field, q).toBe(q.startsWith("?page") ? "page" : "per_page");
    }
  });

  it("gives an empty array to a token with abilities {}, as the family does", async () => {
    const now = nowSeconds(t);
    const token = await mintToken({ secret: SECRET, claims: { exp: now + 3600, iat: now, user_id: "u", abilities: {} } });
    const r = await t.http().get(`/api/v1/albums/${album}/images`).set("Authorization", t.auth(token));
    expect(r.status).toBe(200);
    expect(r.text).toBe("[]");
    expect(r.headers["content-length"]).toBe("2");
    expect(r.headers["x-total-count"]).toBe("0");
  });

  it("gives an empty array for a token of another album", async () => {
    const r = await t.http().get(`/api/v1/albums/${album}/images`).set("Authorization", t.auth(await t.token(["image_list"], `${album}X`)));
    expect(r.status).toBe(200);
    expect(r.body).toEqual([]);
  });

  it("404 for an invalid album id", async () => {
    const r = await list(encodeURIComponent("bad album!"));
    expectError(r, 404, "not_found");
  });

  it("401 without a token", async () => {
    expectError(await t.http().get(`/api/v1/albums/${album}/images`), 401, "unauthenticated");
  });
});

describe("PUT /api/v1/images/:id", () => {
  describe("caption", () => {
    it("sets title and description from a form body", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      t.clock.advance(60_000);
      const r = await put(img.id, album, ["image_caption"], "title=My+title&description=Line+one%0ALine+two");
      expect(r.status).toBe(200);
      expect(r.body.title).toBe("My title");
      expect(r.body.description).toBe("Line one\nLine two");
      expect(r.body.updated_at).toBe(isoWithOffset(t.clock.now()));
      expect(r.body.created_at).toBe(img.created_at);
      expect(r.headers["x-token"]).toBeDefined();
      expect((await current(img.id, album)).title).toBe("My title");
    });

    it("sets them from a JSON body, and null clears them", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album, fields: { title: "Old", description: "Old too" } });
      const r = await put(img.id, album, ["image_caption"], { title: "Ünïcødé ✓", description: "JSON" });
      expect(r.status).toBe(200);
      expect([r.body.title, r.body.description]).toEqual(["Ünïcødé ✓", "JSON"]);
      const cleared = await put(img.id, album, ["image_caption"], { title: null });
      expect(cleared.status).toBe(200);
      expect([cleared.body.title, cleared.body.description]).toEqual([null, "JSON"]);
    });

    it("works with PATCH too", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      const r = await t
        .http()
        .patch(`/api/v1/images/${img.id}`)
        .set("Authorization", t.auth(await t.token(["image_caption"], album)))
        .type("form")
        .send("title=Patched");
      expect(r.status).toBe(200);
      expect(r.body.title).toBe("Patched");
    });

    it("403 with image_list only, and nothing changes", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album, fields: { title: "Keep" } });
      expectError(await put(img.id, album, ["image_list"], "title=Changed"), 403, "forbidden");
      expect((await current(img.id, album)).title).toBe("Keep");
    });

    it("422 for a title over 255 characters", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      const r = await put(img.id, album, ["image_caption"], { title: "x".repeat(256) });
      expectError(r, 422, "invalid_parameters");
      expect(r.body.error.details).toEqual([{ field: "title", message: "must be at most 255 characters" }]);
    });

    it("serialises concurrent captions: every one succeeds and one wins", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      const titles = Array.from({ length: 10 }, (_, i) => `title ${i}`);
      const results = await Promise.all(titles.map((title) => put(img.id, album, ["image_caption"], { title })));
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(titles).toContain((await current(img.id, album)).title);
    });
  });

  describe("rotate", () => {
    it("rotation=90 changes the edited renditions' URLs only", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      const before = await current(img.id, album);
      const r = await put(img.id, album, ["image_rotate"], "rotation=90");
      expect(r.status).toBe(200);
      expect(r.body.rotation).toBe(90);
      const a = deliveryUrls(before);
      const b = deliveryUrls(r.body);
      for (const k of ["thumbnails.full", "thumbnails.large", "thumbnails.mini", "external_urls.fill100", "external_urls.fit2000", "external_urls.full", "external_urls.large", "external_urls.mini"]) {
        expect(b[k], k).not.toBe(a[k]);
        expect(new URL(b[k]!).pathname, k).toContain("/a_90/");
      }
      for (const k of ["original_url", "thumbnails.original", "thumbnails.full_no_sharinpix"]) expect(b[k], k).toBe(a[k]);
      expect(new URL(b["thumbnails.full"]!).pathname).toContain("/full/a_90/c_fit,h_1920,w_1920/fl_attachment/");
    });

    it("422 for rotation 45, with nothing changed", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      const r = await put(img.id, album, ["image_rotate"], "rotation=45");
      expectError(r, 422, "invalid_parameters");
      expect(r.body.error.details).toEqual([{ field: "rotation", message: "must be one of 0, 90, 180, 270" }]);
      expect(await current(img.id, album)).toMatchObject({ rotation: 0, updated_at: img.updated_at });
    });

    it("422 for a rotation that is not a number", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      expectError(await put(img.id, album, ["image_rotate"], "rotation=ninety"), 422, "invalid_parameters");
    });

    it("403 when a caption-only token changes the rotation, with nothing changed", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      expectError(await put(img.id, album, ["image_caption"], "title=New&rotation=90"), 403, "forbidden");
      expect(await current(img.id, album)).toMatchObject({ rotation: 0, title: null, updated_at: img.updated_at });
    });
  });

  describe("crop", () => {
    it("crops with only image_crop when rotation stays 0", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      const r = await put(img.id, album, ["image_crop"], "rotation=0&crop_x=3&crop_y=2&crop_w=10&crop_h=11");
      expect(r.status).toBe(200);
      expect(r.text).toContain('"rotation":0,"crop_x":3.0,"crop_y":2.0,"crop_w":10.0,"crop_h":11.0,');
      expect([r.body.width, r.body.height, r.body.original_width, r.body.original_height]).toEqual([10, 11, 48, 48]);
      const urls = deliveryUrls(r.body);
      for (const k of ["thumbnails.full", "thumbnails.large", "thumbnails.mini", "external_urls.fill100", "external_urls.fit2000"])
        expect(new URL(urls[k]!).pathname, k).toContain("/c_crop,h_11,w_10,x_3,y_2/");
      for (const k of ["original_url", "thumbnails.original", "thumbnails.full_no_sharinpix"]) expect(urls[k], k).not.toContain("c_crop");
      expect(await current(img.id, album)).toMatchObject({ width: 10, height: 11, crop_x: 3, crop_h: 11 });
    });

    it("keeps fractional crop values but reports whole-pixel width and height", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      const r = await put(img.id, album, ["image_crop"], "crop_x=3.5&crop_y=2.25&crop_w=10.5&crop_h=11");
      expect(r.status).toBe(200);
      expect(r.text).toContain('"crop_x":3.5,"crop_y":2.25,"crop_w":10.5,"crop_h":11.0,');
      expect([r.body.width, r.body.height]).toEqual([11, 11]);
      expect(Number.isInteger(r.body.width)).toBe(true);
    });

    it("crop_*=0 removes the crop", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      await put(img.id, album, ["image_crop"], "crop_x=3&crop_y=2&crop_w=10&crop_h=11");
      const r = await put(img.id, album, ["image_crop"], "crop_x=0&crop_y=0&crop_w=0&crop_h=0");
      expect(r.status).toBe(200);
      expect(r.text).toContain('"crop_x":0.0,"crop_y":0.0,"crop_w":0.0,"crop_h":0.0');
      expect([r.body.width, r.body.height]).toEqual([48, 48]);
    });

    it("403 when the crop also turns the image and the token lacks image_rotate", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      expectError(await put(img.id, album, ["image_crop"], "rotation=90&crop_x=3&crop_y=2&crop_w=10&crop_h=11"), 403, "forbidden");
      expect(await current(img.id, album)).toMatchObject({ rotation: 0, crop_w: 0, width: 48 });
      const both = await put(img.id, album, ["image_crop", "image_rotate"], "rotation=90&crop_x=3&crop_y=2&crop_w=10&crop_h=11");
      expect(both.status).toBe(200);
      expect([both.body.rotation, both.body.width, both.body.height]).toEqual([90, 11, 10]);
    });

    it("422 for a crop outside the image", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      for (const body of ["crop_x=40&crop_y=0&crop_w=10&crop_h=10", "crop_x=0&crop_y=0&crop_w=49&crop_h=48", "crop_x=0&crop_y=0&crop_w=-5&crop_h=10"]) {
        const r = await put(img.id, album, ["image_crop"], body);
        expectError(r, 422, "invalid_parameters");
        expect(r.body.error.details[0].field, body).toBe("crop");
      }
      expect((await current(img.id, album)).crop_w).toBe(0);
    });

    it("422 for some crop fields without the others", async () => {
      const album = freshAlbum();
      const img = await uploaded(t, { album });
      const r = await put(img.id, album, ["image_crop"], "crop_x=3&crop_y=2");
      expectError(r, 422, "invalid_parameters");
      expect(r.body.error.details).toEqual([{ field: "crop", message: "send crop_x, crop_y, crop_w and crop_h together" }]);
    });
  });

  it("422 for an empty body", async () => {
    const album = freshAlbum();
    const img = await uploaded(t, { album });
    for (const send of [
      () => t.http().put(`/api/v1/images/${img.id}`),
      () => t.http().put(`/api/v1/images/${img.id}`).type("form").send(""),
      () => t.http().put(`/api/v1/images/${img.id}`).send({}),
    ]) {
      const r = await send().set("Authorization", t.auth(await t.token(["image_caption", "image_rotate", "image_crop"], album)));
      expectError(r, 422, "invalid_parameters");
      expect(r.body.error.details).toEqual([{ field: "body", message: "nothing to update: send title, description, rotation or crop_*" }]);
    }
  });

  it("404 for an unknown image", async () => {
    const album = freshAlbum();
    expectError(await put("0f8fad5b-d9cb-469f-a165-70867728950e", album, ["image_caption"], "title=x"), 404, "not_found");
  });
});

describe("DELETE /api/v1/images/:id", () => {
  it("204 with an empty body and no Content-Type, then the image is gone", async () => {
    const album = freshAlbum();
    const img = await uploaded(t, { album });
    const r = await t.http().delete(`/api/v1/images/${img.id}`).set("Authorization", t.auth(await t.token(["image_delete"], album)));
    expect(r.status).toBe(204);
    expect(r.text).toBe("");
    expect(r.headers["content-type"]).toBeUndefined();
    expect(r.headers["content-length"]).toBeUndefined();
    expect(r.headers.vary).toBeUndefined();
    expect(ownHeaderOrder(r)).toEqual(SEED_ORDER.filter((h) => !BODY_HEADERS.includes(h)));
    expectError(await get(img.id, album), 404, "not_found");
    expect(await albumCount(t, album)).toBe(0);
    const again = await t.http().delete(`/api/v1/images/${img.id}`).set("Authorization", t.auth(await t.token(["image_delete"], album)));
    expectError(again, 404, "not_found");
  });

  it("403 without image_delete, and the image stays", async () => {
    const album = freshAlbum();
    const img = await uploaded(t, { album });
    const r = await t
      .http()
      .delete(`/api/v1/images/${img.id}`)
      .set("Authorization", t.auth(await t.token(["image_list", "image_upload", "image_duplicate"], album)));
    expectError(r, 403, "forbidden");
    expect((await get(img.id, album)).status).toBe(200);
    expect(await albumCount(t, album)).toBe(1);
  });

  it("403 with image_delete on another album", async () => {
    const album = freshAlbum();
    const img = await uploaded(t, { album });
    const r = await t.http().delete(`/api/v1/images/${img.id}`).set("Authorization", t.auth(await t.token(["image_delete"], `${album}X`)));
    expectError(r, 403, "forbidden");
    expect(await albumCount(t, album)).toBe(1);
  });
});

describe("GET /healthz", () => {
  it("answers 200 without a token", async () => {
    const r = await t.http().get("/healthz");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "ok" });
    expect(r.headers["cache-control"]).toBe("no-cache, no-store");
  });
});
