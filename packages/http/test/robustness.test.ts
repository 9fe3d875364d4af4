import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as TE from "fp-ts/lib/TaskEither.js";
import request from "supertest";
import { unavailable } from "@image-api/core";
import { withBadSignature } from "@image-api/testkit";
import { createApp } from "../src/app.js";
import { validated } from "./openapi-validation.js";
import {
  albumCount,
  asXMessage,
  binary,
  fixturePng,
  freshAlbum,
  pathOf,
  startTestApp,
  storedFiles,
  upload,
  uploaded,
  type TestApp,
} from "./harness.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const expectError = (r: { status: number; body: any; headers: any }, status: number, code: string) => {
  expect(r.status).toBe(status);
  expect(r.headers["content-type"]).toBe("application/json; charset=utf-8");
  expect(r.body.error.code).toBe(code);
  expect(r.headers["x-message"]).toBe(asXMessage(r.body.error.message));
};

describe("malformed bodies", () => {
  const album = freshAlbum("ROB");
  let id: string;
  let token: string;
  beforeAll(async () => {
    id = (await uploaded(t, { album, fields: { title: "Original" } })).id;
    token = await t.token(["image_caption", "image_rotate", "image_crop", "image_list"], album);
  });
  const putRaw = (contentType: string, body: string | Buffer) =>
    t.http().put(`/api/v1/images/${id}`).set("Authorization", t.auth(token)).set("Content-Type", contentType).send(body);
  const title = async () =>
    (await t.http().get(`/api/v1/images/${id}`).set("Authorization", t.auth(token))).body.title as string | null;

  it("400 for malformed JSON", async () => {
    for (const body of ['{"title":', "{title: 'x'}", '{"title":"x"}}', "\u0000"]) {
      const r = await putRaw("application/json", body);
      expectError(r, 400, "bad_request");
      expect(r.body.error.message).toBe("malformed request body");
    }
    expect(await title()).toBe("Original");
  });

  it("413 for an urlencoded body over 1 MB", async () => {
    const r = await putRaw("application/x-www-form-urlencoded", `title=${"a".repeat(1024 * 1024 + 10)}`);
    expectError(r, 413, "payload_too_large");
    expect(await title()).toBe("Original");
  });

  it("413 for a JSON body over 1 MB", async () => {
    const r = await putRaw("application/json", JSON.stringify({ title: "a".repeat(1024 * 1024 + 10) }));
    expectError(r, 413, "payload_too_large");
  });

  it("422 for title[]=a (an array where a string belongs)", async () => {
    const r = await putRaw("application/x-www-form-urlencoded", "title[]=a");
    expectError(r, 422, "invalid_parameters");
    expect(r.body.error.details).toEqual([{ field: "title", message: "must be a string" }]);
    const nested = await putRaw("application/x-www-form-urlencoded", "title[a]=b");
    expectError(nested, 422, "invalid_parameters");
    const json = await putRaw("application/json", JSON.stringify({ title: { a: 1 } }));
    expectError(json, 422, "invalid_parameters");
    const number = await putRaw("application/json", JSON.stringify({ rotation: [90] }));
    expectError(number, 422, "invalid_parameters");
    expect(await title()).toBe("Original");
  });

  it("422 for a JSON array or a body in an unknown encoding", async () => {
    expectError(await putRaw("application/json", "[1,2]"), 422, "invalid_parameters");
    expectError(await putRaw("text/plain", "title=plain"), 422, "invalid_parameters");
    expect(await title()).toBe("Original");
  });

  it("422 for repeated query parameters", async () => {
    const r = await t.http().get(`/api/v1/albums/${album}/images?per_page=1&per_page=2`).set("Authorization", t.auth(token));
    expectError(r, 422, "invalid_parameters");
  });
});

describe("prototype pollution", () => {
  it("422 for metadatas[__proto__][x]=1 on upload, and Object.prototype is untouched", async () => {
    const album = freshAlbum();
    const files = await storedFiles(t);
    for (const field of ["metadatas[__proto__][x]", "metadatas[__proto__]", "__proto__[x]", "metadatas[a][__proto__]"]) {
      const r = await upload(t, { album, fields: { [field]: "1" } });
      expectError(r, 422, "invalid_parameters");
      expect(r.body.error.details[0].field, field).toBe(field);
    }
    expect(await albumCount(t, album)).toBe(0);
    expect(await storedFiles(t)).toEqual(files);
    expect(Object.prototype).not.toHaveProperty("x");
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("keeps constructor.prototype as plain data", async () => {
    const album = freshAlbum();
    const r = await upload(t, { album, fields: { "metadatas[constructor][prototype][polluted]": "yes" } });
    expect(r.status).toBe(200);
    expect(r.body.metadatas).toEqual({ constructor: { prototype: { polluted: "yes" } } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("ignores __proto__ in form and JSON bodies of an update", async () => {
    const album = freshAlbum();
    const img = await uploaded(t, { album });
    const token = await t.token(["image_caption"], album);
    const form = await t
      .http()
      .put(`/api/v1/images/${img.id}`)
      .set("Authorization", t.auth(token))
      .type("form")
      .send("__proto__[polluted]=1&title=Form");
    expect(form.status).toBe(200);
    expect(form.body.title).toBe("Form");
    const json = await t
      .http()
      .put(`/api/v1/images/${img.id}`)
      .set("Authorization", t.auth(token))
      .set("Content-Type", "application/json")
      .send('{"__proto__":{"polluted":true},"title":"Json"}');
    expect(json.status).toBe(200);
    expect(json.body.title).toBe("Json");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });
});

describe("hostile multipart", () => {
  it("422 for too many form fields", async () => {
    const album = freshAlbum();
    const fields = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`metadatas[k${i}]`, "v"]));
    const r = await upload(t, { album, fields });
    expectError(r, 422, "invalid_parameters");
    expect(await albumCount(t, album)).toBe(0);
  });

  it("422 for a field value over 64 kB", async () => {
    const album = freshAlbum();
    const r = await upload(t, { album, fields: { description: "d".repeat(70 * 1024) } });
    expectError(r, 422, "invalid_parameters");
    expect(await albumCount(t, album)).toBe(0);
  });

  it("survives a client that hangs up mid-upload, and stores nothing", async () => {
    const album = freshAlbum();
    const token = await t.token(["image_upload"], album);
    const files = await storedFiles(t);
    const server = t.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const boundary = "----cut-short";
      const png = await fixturePng(200, 200, "#AA0000");
      await new Promise<void>((resolve) => {
        const req = httpRequest({
          host: "127.0.0.1",
          port,
          method: "POST",
          path: `/api/v1/albums/${album}/images`,
          headers: {
            Authorization: t.auth(token),
            "Content-Type": `multipart/form-data; boundary=${boundary}`,
            "Content-Length": String(png.byteLength * 4),
          },
        });
        req.on("error", () => resolve());
        req.on("close", () => resolve());
        req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`);
        req.write(png.subarray(0, Math.floor(png.byteLength / 2)));
        setTimeout(() => req.destroy(), 50);
      });
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await albumCount(t, album)).toBe(0);
    expect(await storedFiles(t)).toEqual(files);
    expect((await t.http().get("/healthz")).status).toBe(200);
  });

  it("4xx (not 5xx) for an oversized header", async () => {
    const r = await t.http().get("/healthz").set("X-Filler", "x".repeat(20 * 1024)).ok(() => true).catch((e: { status?: number }) => e);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
  });
});

describe("200 parallel mixed requests", () => {
  it("never answer 5xx, and the service stays up", async () => {
    const album = freshAlbum("MIX");
    const src = await uploaded(t, { album });
    const token = await t.token(["image_list", "image_duplicate", "image_caption", "image_delete", "image_upload"], album);
    const png = await fixturePng(32, 32, "#445566");
    const victims = await Promise.all(Array.from({ length: 5 }, () => uploaded(t, { album, bytes: png })));
    const before = await albumCount(t, album);

    const kinds = [
      () => t.http().get(`/api/v1/images/${src.id}`).set("Authorization", t.auth(token)),
      () => t.http().post(`/api/v1/images/${src.id}/duplicate`).set("Authorization", t.auth(token)),
      () => t.http().post(`/api/v1/images/${src.id}/duplicate`).set("Authorization", t.auth(withBadSignature(token))),
      () => t.http().post(`/api/v1/images/${src.id}/duplicate`).set("Authorization", "Token token=\"garbage\""),
      () => t.http().get(`/api/v1/albums/${album}/images?per_page=5`).set("Authorization", t.auth(token)),
      () => t.http().put(`/api/v1/images/${src.id}`).set("Authorization", t.auth(token)).type("form").send(`title=t${Math.random()}`),
      () => binary(t.http().get(pathOf(src.thumbnails.mini))),
      () => binary(t.http().get(pathOf(src.external_urls.fill100))),
      () => t.http().put(`/api/v1/images/${src.id}`).set("Authorization", t.auth(token)).set("Content-Type", "application/json").send("{bad"),
      () => t.http().get(`/api/v1/images/not-a-uuid`).set("Authorization", t.auth(token)),
    ];
    const requests = Array.from({ length: 200 }, (_, i) => kinds[i % kinds.length]!());
    // Deletes race the duplicates of the same images.
    for (const v of victims) {
      requests.push(t.http().delete(`/api/v1/images/${v.id}`).set("Authorization", t.auth(token)));
      requests.push(t.http().post(`/api/v1/images/${v.id}/duplicate`).set("Authorization", t.auth(token)));
    }
    const results = await Promise.all(requests);
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    // Each kind answered as it should.
    const byKind = (k: number) => statuses.filter((_, i) => i < 200 && i % kinds.length === k);
    expect(new Set(byKind(0))).toEqual(new Set([200]));
    expect(new Set(byKind(1))).toEqual(new Set([200]));
    expect(new Set(byKind(2))).toEqual(new Set([401]));
    expect(new Set(byKind(3))).toEqual(new Set([401]));
    expect(new Set(byKind(4))).toEqual(new Set([200]));
    expect(new Set(byKind(5))).toEqual(new Set([200]));
    expect(new Set(byKind(6))).toEqual(new Set([200]));
    expect(new Set(byKind(7))).toEqual(new Set([200]));
    expect(new Set(byKind(8))).toEqual(new Set([400]));
    expect(new Set(byKind(9))).toEqual(new Set([404]));
    const raced = statuses.slice(200);
    for (let i = 0; i < raced.length; i += 2) {
      expect(raced[i]).toBe(204);
      expect([200, 404]).toContain(raced[i + 1]);
    }
    const duplicatesMade = 20 + raced.filter((s, i) => i % 2 === 1 && s === 200).length;
    expect(await albumCount(t, album)).toBe(before - victims.length + duplicatesMade);

    const health = await t.http().get("/healthz");
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: "ok" });
  });
});

describe("backend failures", () => {
  it("503 with a generic message when the database is down, without leaking the cause", async () => {
    const album = freshAlbum();
    const img = await uploaded(t, { album });
    const down = () => TE.left(unavailable("connection refused", new Error("postgres://admin:hunter2@db")));
    const logged: unknown[] = [];
    const app = validated(createApp({ ...t.deps, images: { ...t.deps.images, findById: down, listByAlbum: down, duplicate: down } }, { onError: (e) => logged.push(e) }));
    const token = await t.token(["image_list", "image_duplicate"], album);
    for (const r of [
      await request(app).get(`/api/v1/images/${img.id}`).set("Authorization", t.auth(token)),
      await request(app).post(`/api/v1/images/${img.id}/duplicate`).set("Authorization", t.auth(token)),
      await request(app).get(`/api/v1/albums/${album}/images`).set("Authorization", t.auth(token)),
    ]) {
      expectError(r, 503, "service_unavailable");
      expect(r.body.error.message).toBe("the service is temporarily unavailable, retry later");
      expect(r.text).not.toContain("hunter2");
      expect(r.headers["x-token"]).toBeUndefined();
    }
    const health = await request(app).get("/healthz");
    expect(health.status).toBe(503);
    expect(health.body).toEqual({ status: "unavailable", database: "down" });
    expect(await albumCount(t, album)).toBe(1);
  });

  it("500 with a generic message when something throws, and the error is logged", async () => {
    const album = freshAlbum();
    const img = await uploaded(t, { album });
    const logged: unknown[] = [];
    const boom = new Error("secret internals");
    const app = validated(
      createApp(
        {
          ...t.deps,
          images: {
            ...t.deps.images,
            findById: () => () => Promise.reject(boom),
          },
        },
        { onError: (e) => logged.push(e) },
      ),
    );
    const r = await request(app).get(`/api/v1/images/${img.id}`).set("Authorization", t.auth(await t.token(["image_list"], album)));
    expectError(r, 500, "internal_error");
    expect(r.body.error.message).toBe("internal error");
    expect(r.text).not.toContain("secret internals");
    expect(logged).toEqual([boom]);
    // The next request that does not hit the broken port is served normally.
    const list = await request(app).get(`/api/v1/albums/${album}/images`).set("Authorization", t.auth(await t.token(["image_list"], album)));
    expect(list.status).toBe(200);
    expect(list.body.map((i: { id: string }) => i.id)).toEqual([img.id]);
  });
});
