import type { BlobKey } from "@image-api/core";
import { startFakeCloudinary, type FakeCloudinary } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { asPosted, directUpload, formFields, s3Backend } from "./backends.fixture.js";
import {
  albumCount,
  binary,
  blobExists,
  blobKeyOf,
  deliveryUrls,
  fixturePng,
  freshAlbum,
  pathOf,
  PUBLIC_URL,
  startTestApp,
  storedFiles,
  uploaded,
  UUID_RE,
  type TestApp,
} from "./harness.js";

const ABILITIES = ["image_upload", "image_list", "image_duplicate", "image_delete"] as const;
const CLOUD = { cloudName: "image-api-backends", apiKey: "614335564976464", apiSecret: "b4c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8" };

const cloudinaryUrl = (fake: FakeCloudinary, delivery: "stand-in" | "production"): string => {
  const query = new URLSearchParams({ upload_prefix: fake.uploadPrefix });
  // The stand-in delivers over plain HTTP on its own port: the SDK's `secure=false` + `cname` settings.
  if (delivery === "stand-in") {
    query.set("secure", "false");
    query.set("cname", new URL(fake.deliveryBaseUrl).host);
  }
  return `cloudinary://${CLOUD.apiKey}:${CLOUD.apiSecret}@${CLOUD.cloudName}?${query.toString()}`;
};

interface Fetched {
  readonly status: number;
  readonly contentType: string;
  readonly bytes: Buffer;
}

/** Service URLs go through the app in-process; anything else (S3, Cloudinary) over HTTP. */
const fetchDelivery = async (t: TestApp, url: string): Promise<Fetched> => {
  if (url.startsWith(`${PUBLIC_URL}/`)) {
    const res = await binary(t.http().get(pathOf(url)));
    return { status: res.status, contentType: String(res.headers["content-type"] ?? ""), bytes: res.body as Buffer };
  }
  const res = await fetch(url);
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", bytes: Buffer.from(await res.arrayBuffer()) };
};

/** Fetches every URL of an image's JSON, checking where each points and that it serves an image. */
const fetchAll = async (t: TestApp, body: Record<string, any>, originOf: (name: string) => string): Promise<Record<string, Buffer>> => {
  const urls = deliveryUrls(body);
  expect(Object.keys(urls)).toHaveLength(11);
  const got: Record<string, Buffer> = {};
  for (const [name, url] of Object.entries(urls)) {
    expect(url, name).toMatch(new RegExp(`^${originOf(name).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    const res = await fetchDelivery(t, url);
    expect(res.status, `${name} ${url}`).toBe(200);
    expect(res.contentType, name).toMatch(/^image\//);
    const meta = await sharp(res.bytes).metadata();
    expect(meta.width, name).toBeGreaterThan(0);
    got[name] = res.bytes;
  }
  return got;
};

interface Expectations {
  /** Where each URL of the image JSON must point. */
  readonly originOf: (name: string) => string;
  /** Whether the blob store writes under the data dir. */
  readonly localFiles: boolean;
  /** Whether thumbnails are rendered (the Cloudinary stand-in serves the stored bytes for any transformation). */
  readonly rendered: boolean;
}

/**
 * The seed exchange on one backend: upload → duplicate → every URL of the copy → delete the source →
 * the copy is whole → delete the copy → the bytes are gone.
 */
const seedScenario = async (t: TestApp, { originOf, localFiles, rendered }: Expectations) => {
  const album = freshAlbum("BK");
  const token = await t.token(ABILITIES, album);
  const auth = t.auth(token);
  const png = await fixturePng(64, 48, "#3366CC");
  const source = await uploaded(t, { album, token, bytes: png, filename: "Backend Test.png" });

  const dupRes = await t.http().post(`/api/v1/images/${source.id}/duplicate`).set("Authorization", auth);
  expect(dupRes.status).toBe(200);
  const dup = dupRes.body as Record<string, any>;
  expect(dup.group_id).toBe(source.id);
  expect(dup.id).toMatch(UUID_RE);
  const key = await blobKeyOf(t, dup.id);
  expect(await blobKeyOf(t, source.id)).toBe(key);

  const bytes = await fetchAll(t, dup, originOf);
  expect(bytes.original_url!.equals(png)).toBe(true);
  expect(bytes["thumbnails.original"]!.equals(png)).toBe(true);
  if (rendered) expect((await sharp(bytes["thumbnails.mini"]).metadata()).width).toBe(100);
  if (localFiles) expect((await storedFiles(t)).length).toBeGreaterThan(0);
  else expect(await storedFiles(t)).toEqual([]);

  expect((await t.http().delete(`/api/v1/images/${source.id}`).set("Authorization", auth)).status).toBe(204);
  expect((await t.http().get(`/api/v1/images/${source.id}`).set("Authorization", auth)).status).toBe(404);
  const after = await t.http().get(`/api/v1/images/${dup.id}`).set("Authorization", auth);
  expect(after.status).toBe(200);
  expect(after.body.group_id).toBe(source.id);
  expect(await blobExists(t, key)).toBe(true);
  const again = await fetchDelivery(t, after.body.original_url as string);
  expect(again.status).toBe(200);
  expect(again.bytes.equals(png)).toBe(true);

  expect((await t.http().delete(`/api/v1/images/${dup.id}`).set("Authorization", auth)).status).toBe(204);
  expect((await t.http().get(`/api/v1/images/${dup.id}`).set("Authorization", auth)).status).toBe(404);
  expect(await blobExists(t, key)).toBe(false);
  expect(await t.deps.images.blobReferences(key)()).toEqual(E.right(0));
  expect(await albumCount(t, album)).toBe(0);
  expect(await storedFiles(t)).toEqual([]);
};

/** A `cloudinary[...]` registration form, which only a Cloudinary deployment accepts. */
const registrationForm = (fields: readonly [string, string][]): string => new URLSearchParams(fields as [string, string][]).toString();

const expectRegistrationRefused = async (t: TestApp) => {
  const album = freshAlbum("RG");
  const token = await t.token(["image_upload"], album);
  const res = await t
    .http()
    .post(`/api/v1/albums/${album}/images/`)
    .set("Authorization", t.auth(token))
    .type("form")
    .send(registrationForm([["cloudinary[public_id]", "abc"], ["cloudinary[version]", "1"], ["cloudinary[signature]", "x".repeat(40)]]));
  expect(res.status).toBe(415);
  expect(await albumCount(t, album)).toBe(0);
};

describe("filesystem storage (the default)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it("serves every URL of a duplicate, keeps it whole when the source goes and frees the bytes with the last image", async () => {
    await seedScenario(t, { originOf: () => `${PUBLIC_URL}/media/`, localFiles: true, rendered: true });
  });

  it("has no registration of direct uploads (415)", () => expectRegistrationRefused(t));
});

describe("S3 storage", () => {
  let backend: Awaited<ReturnType<typeof s3Backend>>;
  let t: TestApp;
  beforeAll(async () => {
    backend = await s3Backend();
    t = await startTestApp(backend.env);
  });
  afterAll(async () => {
    await t?.close();
    await backend?.stop();
  });

  it("serves originals as presigned S3 URLs and edited renditions through the service, writing no local blob files", async () => {
    const { endpoint, bucket } = backend.connection;
    const presigned = new Set(["original_url", "thumbnails.original"]);
    const originOf = (name: string) => (presigned.has(name) ? `${endpoint}/${bucket}/${backend.env.IMAGE_API_S3_PREFIX}` : `${PUBLIC_URL}/media/`);
    await seedScenario(t, { originOf, localFiles: false, rendered: true });
  });

  it("has no registration of direct uploads (415)", () => expectRegistrationRefused(t));
});

describe("Cloudinary storage (against a stand-in)", () => {
  let fake: FakeCloudinary;
  let t: TestApp;
  beforeAll(async () => {
    fake = await startFakeCloudinary(CLOUD);
    t = await startTestApp({ IMAGE_API_STORAGE: "cloudinary", CLOUDINARY_URL: cloudinaryUrl(fake, "stand-in") });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  const delivery = () => `${fake.deliveryBaseUrl}/${CLOUD.cloudName}/image/authenticated/s--`;

  it("serves every URL of a duplicate from Cloudinary's delivery, and destroys the asset with the last image", async () => {
    await seedScenario(t, { originOf: delivery, localFiles: false, rendered: false });
    expect(fake.assets()).toEqual([]);
  });

  describe("registering an asset the client uploaded itself (cloudinary[...] form)", () => {
    const METADATA = { DateTimeOriginal: "2018:01:01 08:00:00", Make: "Canon", Model: "EOS 5D" };

    /** The browser's upload response plus the analysis fields Cloudinary adds, as a form relays them. */
    const relay = async (png: Buffer) => {
      const response = await directUpload(CLOUD, fake.uploadPrefix, png);
      const fields: [string, string][] = [
        ...formFields("cloudinary", { ...response, image_metadata: METADATA }),
        ["cloudinary[colors][0][0]", "#F3A2B1"],
        ["cloudinary[colors][0][1]", "60.2"],
        ["cloudinary[colors][1][0]", "#000000"],
        ["cloudinary[colors][1][1]", "39.8"],
      ];
      const infos = { ...(asPosted({ ...response, image_metadata: METADATA }) as Record<string, unknown>), colors: [["#F3A2B1", "60.2"], ["#000000", "39.8"]] };
      return { response, fields, infos };
    };

    const register = async (album: string, fields: readonly [string, string][], abilities: readonly (typeof ABILITIES)[number][] = ["image_upload"]) =>
      t
        .http()
        .post(`/api/v1/albums/${album}/images/`)
        .set("Authorization", t.auth(await t.token(abilities, album)))
        .type("form")
        .send(registrationForm(fields));

    it("records the signed upload response, echoing every posted field in infos, and the copy of it works", async () => {
      const album = freshAlbum("RG");
      const png = await fixturePng(30, 20, "#F3A2B1");
      const { response, fields, infos } = await relay(png);
      const res = await register(album, [...fields, ["metadatas[meta]", "data"]]);
      expect(res.status, res.text).toBe(200);
      const body = res.body as Record<string, any>;
      expect(body.infos).toEqual(infos);
      expect(Object.keys(body.infos)).toEqual(Object.keys(infos));
      expect(body).toMatchObject({
        public_id: body.id,
        exifs: METADATA,
        gps: null,
        gps_html: null,
        taken_at: "2018-01-01T08:00:00.000+00:00",
        width: 30,
        height: 20,
        original_width: 30,
        original_height: 20,
        metadatas: { meta: "data" },
        format: "png",
        color: "#F3A2B1",
        group_id: null,
        album_id: album,
        size: png.byteLength,
      });
      const key = response.public_id as BlobKey;
      expect(await blobKeyOf(t, body.id)).toBe(key);
      expect((await fetchAll(t, body, delivery)).original_url!.equals(png)).toBe(true);

      const token = await t.token(ABILITIES, album);
      const dup = await t.http().post(`/api/v1/images/${body.id}/duplicate`).set("Authorization", t.auth(token));
      expect(dup.status).toBe(200);
      expect(dup.body).toMatchObject({ group_id: body.id, infos, color: "#F3A2B1" });
      expect((await fetchAll(t, dup.body, delivery)).original_url!.equals(png)).toBe(true);

      // The asset now belongs to that image: a second registration of it is a conflict.
      const twice = await register(album, fields);
      expect(twice.status).toBe(409);
      expect(await albumCount(t, album)).toBe(2);

      for (const id of [body.id, dup.body.id]) expect((await t.http().delete(`/api/v1/images/${id}`).set("Authorization", t.auth(token))).status).toBe(204);
      expect(await blobExists(t, key)).toBe(false);
      expect(fake.assets().map((a) => a.publicId)).not.toContain(key);
    });

    it("takes the same response as JSON, numbers included", async () => {
      const album = freshAlbum("RG");
      const png = await fixturePng(12, 34);
      const response = await directUpload(CLOUD, fake.uploadPrefix, png);
      const res = await t
        .http()
        .post(`/api/v1/albums/${album}/images`)
        .set("Authorization", t.auth(await t.token(["image_upload"], album)))
        .send({ cloudinary: response, metadatas: { trip: "lisbon" } });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ infos: response, width: 12, height: 34, metadatas: { trip: "lisbon" }, color: "#", taken_at: null });
    });

    it.for([
      ["a forged signature", (f: [string, string][]) => f.map(([k, v]): [string, string] => [k, k === "cloudinary[signature]" ? "0".repeat(40) : v]), 403],
      ["a version changed after signing", (f: [string, string][]) => f.map(([k, v]): [string, string] => [k, k === "cloudinary[version]" ? String(Number(v) + 1) : v]), 403],
      ["no signature", (f: [string, string][]) => f.filter(([k]) => k !== "cloudinary[signature]"), 422],
    ] as const)("refuses %s and stores nothing", async ([, tamper, status]) => {
      const album = freshAlbum("RG");
      const { response, fields } = await relay(await fixturePng(8, 8));
      const res = await register(album, tamper(fields));
      expect(res.status, res.text).toBe(status);
      expect(await albumCount(t, album)).toBe(0);
      expect(await t.deps.images.blobReferences(response.public_id as BlobKey)()).toEqual(E.right(0));
    });

    it("needs image_upload on the album", async () => {
      const album = freshAlbum("RG");
      const { fields } = await relay(await fixturePng(8, 8));
      expect((await register(album, fields, ["image_list", "image_duplicate"])).status).toBe(403);
      expect(await albumCount(t, album)).toBe(0);
    });

    it("answers 422 when the cloudinary field is not the nested response", async () => {
      const album = freshAlbum("RG");
      expect((await register(album, [["cloudinary", "public_id=abc"]])).status).toBe(422);
    });
  });
});

describe("Cloudinary storage, production delivery URLs", () => {
  let fake: FakeCloudinary;
  let t: TestApp;
  beforeAll(async () => {
    fake = await startFakeCloudinary(CLOUD);
    t = await startTestApp({ IMAGE_API_STORAGE: "cloudinary", CLOUDINARY_URL: cloudinaryUrl(fake, "production") });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  it("signs res.cloudinary.com authenticated URLs carrying Cloudinary's version and the blob key", async () => {
    const album = freshAlbum("PR");
    const token = await t.token(ABILITIES, album);
    const source = await uploaded(t, { album, token, bytes: await fixturePng(40, 30) });
    const dup = await t.http().post(`/api/v1/images/${source.id}/duplicate`).set("Authorization", t.auth(token));
    expect(dup.status).toBe(200);
    const key = await blobKeyOf(t, dup.body.id);
    const [asset] = fake.assets();
    expect(asset?.publicId).toBe(key);
    // Tagged with its album, as the family's infos.tags mirror.
    expect(asset?.tags).toEqual([album]);
    const shape = new RegExp(
      `^https://res\\.cloudinary\\.com/${CLOUD.cloudName}/image/authenticated/s--[A-Za-z0-9_-]{8}--/(?:[^/]+/)*v${asset!.version}/${key}\\.png$`,
    );
    for (const [name, url] of Object.entries(deliveryUrls(dup.body))) {
      expect(url, name).toMatch(shape);
      // The stand-in checks signatures as Cloudinary does.
      const res = await fetch(url.replace("https://res.cloudinary.com", fake.deliveryBaseUrl), { method: "HEAD" });
      expect(res.status, name).toBe(200);
    }
    expect(dup.body.original_url).toMatch(/\/s--[A-Za-z0-9_-]{8}--\/fl_attachment\/v\d+\//);
  });
});

describe("an incomplete configuration stops the start, naming the variable", () => {
  const problems = (env: Record<string, string>): string[] => {
    const r = loadConfig(env);
    return E.isLeft(r) ? r.left : [];
  };
  const SECRETS = { IMAGE_API_JWT_SECRET: "j".repeat(32), IMAGE_API_URL_SIGNING_KEYS: "k".repeat(32) };
  const CLOUDINARY_URL = "cloudinary://614335564976464:secret-value@cloud";

  it.for([
    ["S3 without a bucket", { IMAGE_API_STORAGE: "s3", ...SECRETS }, "IMAGE_API_S3_BUCKET"],
    ["Cloudinary without CLOUDINARY_URL", { IMAGE_API_STORAGE: "cloudinary", ...SECRETS }, "CLOUDINARY_URL"],
    ["S3 without a JWT secret", { IMAGE_API_STORAGE: "s3", IMAGE_API_S3_BUCKET: "images", IMAGE_API_URL_SIGNING_KEYS: "k".repeat(32) }, "IMAGE_API_JWT_SECRET"],
    ["S3 without URL signing keys", { IMAGE_API_STORAGE: "s3", IMAGE_API_S3_BUCKET: "images", IMAGE_API_JWT_SECRET: "j".repeat(32) }, "IMAGE_API_URL_SIGNING_KEYS"],
    ["Cloudinary without a JWT secret", { IMAGE_API_STORAGE: "cloudinary", CLOUDINARY_URL }, "IMAGE_API_JWT_SECRET"],
    ["server PostgreSQL without a JWT secret", { IMAGE_API_DATABASE_URL: "postgres://app@db/images", IMAGE_API_URL_SIGNING_KEYS: "k".repeat(32) }, "IMAGE_API_JWT_SECRET"],
    ["a CLOUDINARY_URL with a bad delivery setting", { IMAGE_API_STORAGE: "cloudinary", CLOUDINARY_URL: `${CLOUDINARY_URL}?secure=maybe`, ...SECRETS }, "CLOUDINARY_URL"],
  ] as const)("%s", ([, env, variable]) => {
    const found = problems(env);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${variable}: `));
    expect(found.join("\n")).not.toContain("secret-value");
  });

  it("accepts each backend once complete, Cloudinary without URL signing keys", () => {
    const s3 = loadConfig({ IMAGE_API_STORAGE: "s3", IMAGE_API_S3_BUCKET: "images", IMAGE_API_S3_FORCE_PATH_STYLE: "true", AWS_REGION: "eu-west-1", ...SECRETS });
    expect(E.isRight(s3) && s3.right.storage).toEqual({ kind: "s3", bucket: "images", prefix: "", forcePathStyle: true, region: "eu-west-1" });
    const cloudinary = loadConfig({ IMAGE_API_STORAGE: "cloudinary", CLOUDINARY_URL: `${CLOUDINARY_URL}?secure=false&cname=127.0.0.1:9999`, IMAGE_API_JWT_SECRET: "j".repeat(32) });
    expect(E.isRight(cloudinary) && cloudinary.right.storage.kind).toBe("cloudinary");
  });
});
