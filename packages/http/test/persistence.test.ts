import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  albumCount,
  binary,
  blobExists,
  blobKeyOf,
  deliveryUrls,
  fixturePng,
  freshAlbum,
  pathOf,
  startTestApp,
  uploaded,
  type TestApp,
} from "./harness.js";

const withoutUrls = (b: Record<string, any>) => {
  const { original_url: _o, thumbnails: _t, external_urls: _e, ...rest } = b;
  return rest;
};
const pathsOf = (b: Record<string, any>) => Object.fromEntries(Object.entries(deliveryUrls(b)).map(([k, u]) => [k, new URL(u).pathname]));

describe("data survives a restart", () => {
  const album = freshAlbum("PERSIST");
  let dir: string;
  let png: Buffer;
  let source: Record<string, any>;
  let copy: Record<string, any>;
  let second: TestApp;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "image-api-persist-"));
    png = await fixturePng(48, 48, "#7D7D7D");
    const first = await startTestApp({}, dir);
    try {
      source = await uploaded(first, {
        album,
        bytes: png,
        fields: { title: "Kept", "metadatas[meta]": "data", latitude: "48.85", longitude: "2.35", accuracy: "10" },
      });
      const token = await first.token(["image_duplicate", "image_rotate", "image_list"], album);
      const rotated = await first.http().put(`/api/v1/images/${source.id}`).set("Authorization", first.auth(token)).type("form").send("rotation=90");
      expect(rotated.status).toBe(200);
      source = rotated.body;
      const dup = await first.http().post(`/api/v1/images/${source.id}/duplicate`).set("Authorization", first.auth(token));
      expect(dup.status).toBe(200);
      copy = dup.body;
      // A rendition cached before the restart.
      expect((await binary(first.http().get(pathOf(source.thumbnails.mini)))).status).toBe(200);
    } finally {
      await first.close();
    }
    second = await startTestApp({}, dir);
  });
  afterAll(async () => {
    await second?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("reads both images back with the same fields", async () => {
    const token = await second.token(["image_list"], album);
    for (const before of [source, copy]) {
      const r = await second.http().get(`/api/v1/images/${before.id}`).set("Authorization", second.auth(token));
      expect(r.status).toBe(200);
      expect(withoutUrls(r.body)).toEqual(withoutUrls(before));
      expect(pathsOf(r.body)).toEqual(pathsOf(before));
    }
  });

  it("prints the stored values the same way", async () => {
    const token = await second.token(["image_list"], album);
    const r = await second.http().get(`/api/v1/images/${copy.id}`).set("Authorization", second.auth(token));
    expect(r.text).toContain('"rotation":90,"crop_x":0.0,"crop_y":0.0,"crop_w":0.0,"crop_h":0.0,');
    expect(r.body.created_at).toBe(copy.created_at);
    expect(r.body.group_id).toBe(source.id);
    expect(r.body.gps).toEqual([48.85, 2.35]);
  });

  it("lists the album as before", async () => {
    const r = await second.http().get(`/api/v1/albums/${album}/images`).set("Authorization", second.auth(await second.token(["image_list"], album)));
    expect(r.status).toBe(200);
    expect(r.headers["x-total-count"]).toBe("2");
    expect(new Set(r.body.map((i: { id: string }) => i.id))).toEqual(new Set([source.id, copy.id]));
  });

  it("still serves the URLs signed before the restart", async () => {
    for (const [k, url] of Object.entries(deliveryUrls(source))) {
      const r = await binary(second.http().get(pathOf(url)));
      expect(r.status, k).toBe(200);
    }
    const original = await binary(second.http().get(pathOf(copy.original_url)));
    expect(Buffer.compare(original.body as Buffer, png)).toBe(0);
  });

  it("keeps blob reference counts: the blob goes with the last image, after the restart", async () => {
    const key = await blobKeyOf(second, source.id);
    expect(await blobKeyOf(second, copy.id)).toBe(key);
    expect(await second.deps.images.blobReferences(key)()).toEqual({ _tag: "Right", right: 2 });
    const token = await second.token(["image_delete"], album);
    expect((await second.http().delete(`/api/v1/images/${source.id}`).set("Authorization", second.auth(token))).status).toBe(204);
    expect(await blobExists(second, key)).toBe(true);
    expect((await second.http().delete(`/api/v1/images/${copy.id}`).set("Authorization", second.auth(token))).status).toBe(204);
    expect(await blobExists(second, key)).toBe(false);
    expect(await albumCount(second, album)).toBe(0);
  });
});

describe("URL signing keys across restarts", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "image-api-keys-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("the key generated into the data dir is reused, and a different configured key refuses old URLs", async () => {
    // An empty variable counts as unset: the embedded default generates and keeps its own key.
    const a = await startTestApp({ IMAGE_API_URL_SIGNING_KEYS: "" }, dir);
    let image: Record<string, any>;
    try {
      image = await uploaded(a, {});
      expect((await binary(a.http().get(pathOf(image.original_url)))).status).toBe(200);
    } finally {
      await a.close();
    }
    const b = await startTestApp({ IMAGE_API_URL_SIGNING_KEYS: "" }, dir);
    try {
      expect((await binary(b.http().get(pathOf(image.original_url)))).status).toBe(200);
    } finally {
      await b.close();
    }
    const c = await startTestApp({ IMAGE_API_URL_SIGNING_KEYS: "another-key-0123456789-abcdefghijklmnopqrstuvwxyz" }, dir);
    try {
      expect((await binary(c.http().get(pathOf(image.original_url)))).status).toBe(403);
    } finally {
      await c.close();
    }
  });
});
