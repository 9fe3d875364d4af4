import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import sharp from "sharp";
import request from "supertest";
import { afterAll, beforeAll } from "vitest";
import { joseTokenIssuer } from "@image-api/adapters";
import { DEFAULT_TENANT, type Ability, type AlbumId, type BlobKey, type Claims, type ImageId, type TenantId } from "@image-api/core";
import { assertTestDatabase, manualClock, testDatabaseUrl } from "@image-api/testkit";
import pg from "pg";
import { createApp, type AppOptions } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { compose } from "../src/container.js";
import type { AppDeps } from "../src/deps.js";
import { seedDatabase } from "./pglite-template.js";
import { SECRET, URL_KEY } from "./harness.constants.js";
import { testLogger } from "./log-scan.js";
import { validated } from "./openapi-validation.js";

export { SECRET, URL_KEY };
export const PUBLIC_URL = "http://media.test";
export const ALBUM = "00100000123BB124";

export interface TestApp {
  readonly app: ReturnType<typeof createApp>;
  readonly deps: AppDeps;
  readonly clock: ReturnType<typeof manualClock>;
  readonly dataDir: string;
  readonly http: () => ReturnType<typeof request>;
  /** A token in the family's shape granting `abilities` on `album` (exp = now + 4 h). */
  readonly token: (abilities: readonly Ability[], album?: string, extra?: Partial<Claims>) => Promise<string>;
  readonly auth: (token: string) => string;
  readonly close: () => Promise<void>;
}

/** The real app on the embedded adapters (PGlite + filesystem) in a fresh data dir, with a manual clock. */
export const startTestApp = async (env: Record<string, string> = {}, dataDir?: string, options: AppOptions = {}): Promise<TestApp> => {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), "image-api-test-")));
  await seedDatabase(dir);
  const config = loadConfig({
    IMAGE_API_DATA_DIR: dir,
    IMAGE_API_JWT_SECRET: SECRET,
    IMAGE_API_URL_SIGNING_KEYS: URL_KEY,
    IMAGE_API_PUBLIC_URL: PUBLIC_URL,
    ...env,
  });
  if (E.isLeft(config)) throw new Error(config.left.join("; "));
  const clock = manualClock(new Date());
  const composition = await compose(config.right, { clock });
  const logger = testLogger();
  // Every response is checked against the OpenAPI document (openapi-validation.ts).
  const app = validated(
    createApp(composition.deps, { metrics: composition.metrics, probes: composition.probes, publicUrl: config.right.publicUrl, ...(logger ? { logger } : {}), ...options }),
  );
  const issuer = joseTokenIssuer({ secret: SECRET });
  return {
    app,
    deps: composition.deps,
    clock,
    dataDir: dir,
    http: () => request(app),
    token: async (abilities, album = ALBUM, extra = {}) => {
      const iat = Math.floor(clock.now().getTime() / 1000);
      const claims: Claims = {
        exp: iat + 14_400,
        iat,
        user_id: "4ed6737b-fdec-499a-a1e2-92a027c079f6",
        abilities: { [album]: { Access: Object.fromEntries(abilities.map((a) => [a, true])) } },
        ...extra,
      };
      const t = await issuer.issue(claims)();
      if (E.isLeft(t)) throw new Error(t.left.message);
      return t.right;
    },
    auth: (token) => `Token token="${token}"`,
    close: async () => {
      await composition.close();
      if (!dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
};

/** Path and query of an absolute delivery URL, for supertest. */
export const pathOf = (url: string): string => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

/** The image JSON's keys, in the family's order. */
export const IMAGE_KEYS = [
  "id",
  "public_id",
  "infos",
  "exifs",
  "gps",
  "gps_ip",
  "gps_exifs",
  "gps_html",
  "created_at",
  "updated_at",
  "taken_at",
  "width",
  "height",
  "rotation",
  "crop_x",
  "crop_y",
  "crop_w",
  "crop_h",
  "metadatas",
  "original_url",
  "original_width",
  "original_height",
  "external_urls",
  "filename",
  "format",
  "title",
  "description",
  "page",
  "group_id",
  "color",
  "size",
  "processed",
  "processing_error",
  "album_id",
  "thumbnails",
] as const;

/** Every delivery URL an image's JSON carries, by a readable name. */
export const deliveryUrls = (body: Record<string, any>): Record<string, string> => ({
  original_url: body.original_url,
  ...Object.fromEntries(Object.entries(body.thumbnails as Record<string, string>).map(([k, v]) => [`thumbnails.${k}`, v])),
  ...Object.fromEntries(Object.entries(body.external_urls as Record<string, string>).map(([k, v]) => [`external_urls.${k}`, v])),
});

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The family's timestamp shape, e.g. `2019-04-08T19:38:52.108+00:00`. */
export const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/;

let albumSeq = 0;
/** A fresh album id per test, so tests sharing one app never see each other's images. */
export const freshAlbum = (prefix = "ALB"): string => `${prefix}${Date.now().toString(36).toUpperCase()}${(++albumSeq).toString().padStart(4, "0")}`;

export interface UploadOptions {
  readonly album?: string;
  readonly token?: string;
  readonly bytes?: Uint8Array | Buffer;
  readonly filename?: string;
  /** Extra form fields, sent before the file. */
  readonly fields?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A solid #7D7D7D 48×48 PNG, the family's fixture image. */
export const fixturePng = (width = 48, height = 48, color = "#7D7D7D"): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: color } }).png().toBuffer();

/** Uploads through the API; the response is returned whatever its status. */
export const upload = async (t: TestApp, opts: UploadOptions = {}): Promise<request.Response> => {
  const album = opts.album ?? ALBUM;
  const token = opts.token ?? (await t.token(["image_upload"], album));
  const bytes = opts.bytes ?? (await fixturePng());
  let req = t.http().post(`/api/v1/albums/${album}/images`).set("Authorization", t.auth(token)).set({ ...opts.headers });
  for (const [k, v] of Object.entries(opts.fields ?? {})) req = req.field(k, v);
  return req.attach("file", Buffer.from(bytes), opts.filename ?? "Super Image.png");
};

/** Uploads and insists on success; returns the image JSON. */
export const uploaded = async (t: TestApp, opts: UploadOptions = {}): Promise<Record<string, any>> => {
  const res = await upload(t, opts);
  if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${res.text}`);
  return res.body as Record<string, any>;
};

/** How many images the repository holds in `album` (read behind the API, so no token is involved). */
export const albumCount = async (t: TestApp, album: string = ALBUM, tenant: TenantId = DEFAULT_TENANT): Promise<number> => {
  const page = await t.deps.images.listByAlbum(tenant, album as AlbumId, { offset: 0, limit: 1 })();
  if (E.isLeft(page)) throw new Error(page.left.message);
  return page.right.total;
};

/** The blob key an image points at, read from the repository. */
export const blobKeyOf = async (t: TestApp, id: string, tenant: TenantId = DEFAULT_TENANT): Promise<BlobKey> => {
  const image = await t.deps.images.findById(tenant, id as ImageId)();
  if (E.isLeft(image)) throw new Error(image.left.message);
  return image.right.blob.key;
};

export const blobExists = async (t: TestApp, key: BlobKey): Promise<boolean> => {
  const r = await t.deps.blobs.exists(key)();
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

/** Every file below `dir` (relative paths, sorted); an absent dir has none. */
export const filesUnder = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
};

/** Files of the filesystem blob store (originals and renditions) in a test app's data dir. */
export const storedFiles = (t: TestApp): Promise<string[]> => filesUnder(join(t.dataDir, "blobs"));

/** Header names in wire order, as the server wrote them. */
export const headerOrder = (res: object): string[] =>
  (res as { res: { rawHeaders: string[] } }).res.rawHeaders.filter((_, i) => i % 2 === 0);

/** The decoded header and payload of a JWT (no verification). */
export const decodeJwt = (token: string): { header: Record<string, unknown>; payload: Record<string, any> } => {
  const [h, p] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(h ?? "", "base64url").toString("utf8")) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p ?? "", "base64url").toString("utf8")) as Record<string, any>,
  };
};

/** Seconds since the epoch on the app's clock. */
export const nowSeconds = (t: TestApp): number => Math.floor(t.clock.now().getTime() / 1000);

/** Buffers any response body (supertest leaves image bodies unparsed otherwise). */
export const binary = (req: ReturnType<ReturnType<typeof request>["get"]>) =>
  req.buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => cb(null, Buffer.concat(chunks)));
  });

/** `X-message` carries the error message in printable ASCII (header values are ASCII), at most 200 characters. */
export const asXMessage = (message: string): string => message.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);

/**
 * The app on server PostgreSQL: a database of its own on the run's server (dropped on close), blobs
 * in the data dir. Undefined when the run has no server Postgres.
 */
export const startPgTestApp = async (env: Record<string, string> = {}, options: AppOptions = {}): Promise<TestApp | undefined> => {
  const base = testDatabaseUrl() ?? process.env["IMAGE_API_TEST_DATABASE_URL"];
  if (!base) return undefined;
  const name = `test_http_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: assertTestDatabase(base) });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const app = await startTestApp({ IMAGE_API_DATABASE_URL: url.toString(), ...env }, undefined, options);
  return {
    ...app,
    close: async () => {
      await app.close();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
};

/** The database backends an HTTP test file runs on: the embedded defaults, and server PostgreSQL when the run has one. */
export const DATABASE_BACKENDS: readonly (readonly [string, (env?: Record<string, string>) => Promise<TestApp | undefined>])[] = [
  ["embedded PGlite", (env = {}) => startTestApp(env)],
  ["server PostgreSQL", (env = {}) => startPgTestApp(env)],
];

/**
 * Starts the app on `start` before the enclosing block's tests and closes it after; `set` receives it.
 * Returns the guard each test calls first: it skips the test when the backend is absent from this run.
 */
export const useBackend = (
  start: (env?: Record<string, string>) => Promise<TestApp | undefined>,
  set: (app: TestApp) => void,
  env: Record<string, string> = {},
): ((ctx: { skip: (note?: string) => void }) => void) => {
  let app: TestApp | undefined;
  beforeAll(async () => {
    app = await start(env);
    if (app) set(app);
  });
  afterAll(() => app?.close());
  return (ctx) => {
    if (!app) ctx.skip("no server PostgreSQL in this run");
  };
};
