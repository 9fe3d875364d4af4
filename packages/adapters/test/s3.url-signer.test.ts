import { ROTATIONS, renditionOf, streamOf, type BlobKey, type DeliveryTarget, type Variant } from "@image-api/core";
import { anImage } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3BlobStore, s3UrlSigner, type S3UrlSignerOptions } from "../src/s3/index.js";
import { freshPrefix, s3Target, type S3Target } from "./s3.target.js";

let target: S3Target;
beforeAll(async () => {
  target = await s3Target();
});
afterAll(async () => {
  await target?.stop();
});

const BYTES = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);

/** A stored blob and a signer for the same bucket and prefix. */
const setup = async (options: Partial<S3UrlSignerOptions> = {}) => {
  const client = target.client();
  const prefix = freshPrefix();
  const blobKey = `blob-${Math.random().toString(36).slice(2)}` as BlobKey;
  const put = await s3BlobStore({ client, bucket: target.bucket, prefix }).put(blobKey, streamOf(BYTES), "application/octet-stream")();
  expect(E.isRight(put)).toBe(true);
  const signer = s3UrlSigner({ client, bucket: target.bucket, prefix, ttlSeconds: 600, ...options });
  return { signer, blobKey };
};

const deliveryOf = (blobKey: BlobKey, variant: Variant, overrides: Partial<DeliveryTarget> = {}): DeliveryTarget => ({
  blobKey,
  format: "png",
  version: 1,
  rendition: renditionOf(anImage(), variant),
  filename: "Super Image",
  ...overrides,
});

const params = (url: string) => new URL(url).searchParams;

describe("s3UrlSigner against a real S3 server", () => {
  it("signs a URL that serves the exact stored bytes as a named attachment", async () => {
    const { signer, blobKey } = await setup();
    const url = await signer.sign(deliveryOf(blobKey, "download"), new Date())();

    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(BYTES);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="Super Image.png"');
    expect(res.headers.get("content-type")).toBe("image/png");
  });

  it("names non-ASCII downloads with an RFC 6266 filename* that survives the round trip", async () => {
    const { signer, blobKey } = await setup();
    const url = await signer.sign(deliveryOf(blobKey, "original", { filename: 'Été "2024"', format: "jpg" }), new Date())();

    const res = await fetch(url);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="_t_ \\"2024\\".jpg"; filename*=UTF-8''%C3%89t%C3%A9%20%222024%22.jpg`,
    );
    expect(res.headers.get("content-type")).toBe("image/jpeg");
  });

  it("keeps the URL stable within the signing window and moves it in the next", async () => {
    const { signer, blobKey } = await setup({ ttlSeconds: 600, windowSeconds: 3600 });
    const delivery = deliveryOf(blobKey, "download");
    const early = await signer.sign(delivery, new Date("2026-03-01T10:00:05Z"))();
    const late = await signer.sign(delivery, new Date("2026-03-01T10:59:59Z"))();
    const next = await signer.sign(delivery, new Date("2026-03-01T11:00:00Z"))();

    expect(late).toBe(early);
    expect(next).not.toBe(early);
    expect(params(early).get("X-Amz-Date")).toBe("20260301T100000Z");
    expect(params(next).get("X-Amz-Date")).toBe("20260301T110000Z");
    // Signed at the window start, so even at 10:59:59 the URL has at least the ttl left.
    expect(params(early).get("X-Amz-Expires")).toBe(String(600 + 3600));
  });

  it("never asks for more than SigV4's one-week limit", async () => {
    const { signer, blobKey } = await setup({ ttlSeconds: 30 * 24 * 3600 });
    const url = await signer.sign(deliveryOf(blobKey, "download"), new Date())();
    expect(Number(params(url).get("X-Amz-Expires"))).toBe(7 * 24 * 3600);
  });

  it("hands out URLs the server refuses once they have expired", async () => {
    const { signer, blobKey } = await setup({ ttlSeconds: 60, windowSeconds: 0 });
    const delivery = deliveryOf(blobKey, "download");

    const expired = await signer.sign(delivery, new Date(Date.now() - 2 * 3600 * 1000))();
    const res = await fetch(expired);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/expired/i);

    const fresh = await fetch(await signer.sign(delivery, new Date())());
    expect(fresh.status).toBe(200);
    await fresh.arrayBuffer();
  });

  it("has URLs for a tampered key refused by the server", async (ctx) => {
    // s3rver does not check SigV4 signatures, only their expiry.
    if (target.server !== "container") ctx.skip();
    const { signer, blobKey } = await setup();
    const url = new URL(await signer.sign(deliveryOf(blobKey, "download"), new Date())());
    url.pathname = url.pathname.replace(blobKey, `${blobKey}x`);
    const res = await fetch(url);
    expect(res.status).toBe(403);
  });

  it("refuses to sign an edited rendition it could not serve", async () => {
    const { signer, blobKey } = await setup();
    const rotated = renditionOf(anImage({ rotation: ROTATIONS[1]! }), "full");
    await expect(signer.sign(deliveryOf(blobKey, "full", { rendition: rotated }), new Date())()).rejects.toThrow(/stored bytes/);
  });

  it("verifies nothing: S3 checks its own signatures", async () => {
    const { signer, blobKey } = await setup();
    const url = await signer.sign(deliveryOf(blobKey, "download"), new Date())();
    expect(signer.verify(url, new Date())).toMatchObject(E.left({ _tag: "Forbidden", message: "not a service delivery URL" }));
  });
});
