/** What the benchmark sends: a token from the service's own issuer, and generated images. */
import { randomFillSync } from "node:crypto";
import * as E from "fp-ts/lib/Either.js";
import { ABILITIES } from "@image-api/core";
import sharp from "sharp";
import { loadConfig } from "../src/config.js";
import { compose } from "../src/container.js";
import { claimsFor } from "../src/demo-token.js";

export const JWT_SECRET = "bench-secret-0123456789-abcdefghijklmnop";
export const URL_KEY = "bench-url-key-0123456789-abcdefghijklmn";
export const ALBUM = "bench-album";
export const LISTING_ALBUM = "bench-listing";

/** Secrets shared by every server of the run, so one token serves them all. */
export const SECRETS_ENV = { IMAGE_API_JWT_SECRET: JWT_SECRET, IMAGE_API_URL_SIGNING_KEYS: URL_KEY };

/**
 * A token for both albums with every ability, signed by the issuer the composition builds from the
 * shared secrets (so any server of the run accepts it). The composition opens `databaseUrl`.
 */
export const authorization = async (databaseUrl: string, dataDir: string): Promise<string> => {
  const config = loadConfig({ ...SECRETS_ENV, IMAGE_API_DATABASE_URL: databaseUrl, IMAGE_API_DATA_DIR: dataDir, LOG_LEVEL: "silent" });
  if (E.isLeft(config)) throw new Error(config.left.join("; "));
  const composition = await compose(config.right);
  try {
    const claims = claimsFor({ userId: "bench", albums: [ALBUM, LISTING_ALBUM], abilities: [...ABILITIES], ttlSeconds: 4 * 3600 }, new Date());
    const token = await composition.deps.tokens.issue(claims)();
    if (E.isLeft(token)) throw new Error(token.left.message);
    return `Token token="${token.right}"`;
  } finally {
    await composition.close();
  }
};

export interface Picture {
  readonly bytes: Buffer;
  readonly contentType: string;
  readonly filename: string;
}

/** A tiny one-colour PNG (about 130 bytes): the hot source of the duplicate runs. */
export const tinyPng = async (): Promise<Picture> => ({
  bytes: await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png().toBuffer(),
  contentType: "image/png",
  filename: "tiny.png",
});

/** A PNG of random pixels, uncompressed, of about `megabytes` MB (10^6 bytes). */
export const noisePng = async (megabytes: number): Promise<Picture> => {
  const side = Math.round(Math.sqrt((megabytes * 1e6) / 3));
  const raw = randomFillSync(Buffer.alloc(side * side * 3));
  return {
    bytes: await sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer(),
    contentType: "image/png",
    filename: "noise.png",
  };
};

/** A 4000×3000 (12 MP) JPEG with smooth gradients and grain, about the size of a camera's; `seed` makes each one distinct. */
export const photoJpeg = async (seed: number): Promise<Picture> => {
  const width = 4000;
  const height = 3000;
  const raw = Buffer.alloc(width * height * 3);
  const grain = randomFillSync(Buffer.alloc(width * height));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const g = (grain[i]! & 31) - 16;
      raw[i * 3] = 128 + 100 * Math.sin((x + seed * 97) / 240) + g;
      raw[i * 3 + 1] = 128 + 100 * Math.cos((y - seed * 53) / 170) + g;
      raw[i * 3 + 2] = 128 + 90 * Math.sin((x + y) / 410 + seed) + g;
    }
  }
  return {
    bytes: await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer(),
    contentType: "image/jpeg",
    filename: `photo-${seed}.jpg`,
  };
};

export interface UploadedImage {
  readonly id: string;
  readonly json: Record<string, unknown>;
}

export const upload = async (base: string, auth: string, album: string, picture: Picture): Promise<UploadedImage> => {
  const form = new FormData();
  form.append("file", new Blob([picture.bytes], { type: picture.contentType }), picture.filename);
  const res = await fetch(`${base}/api/v1/albums/${album}/images`, { method: "POST", headers: { Authorization: auth }, body: form });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`upload to ${base} answered ${res.status}: ${text.slice(0, 300)}`);
  const json = JSON.parse(text) as Record<string, unknown>;
  return { id: String(json["id"]), json };
};
