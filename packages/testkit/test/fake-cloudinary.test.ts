import { createHash } from "node:crypto";
import { Agent } from "node:http";
import { v2 as cloudinary, type UploadApiOptions, type UploadApiResponse } from "cloudinary";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { solidPng } from "../src/fixtures/png.fixture.js";
import { startFakeCloudinary, type FakeCloudinary } from "../src/cloudinary/index.js";

/** The SDK's request signer; its typings leave out the algorithm and version arguments it takes. */
const apiSignRequest = cloudinary.utils.api_sign_request as unknown as (params: object, secret: string, algorithm: "sha1" | "sha256", version: 1 | 2) => string;
const ACCOUNT = { cloudName: "fake-cloud", apiKey: "871245436", apiSecret: "Zx9-secret" };

let fake: FakeCloudinary;
beforeAll(async () => {
  fake = await startFakeCloudinary(ACCOUNT);
});
afterAll(() => fake.close());

/** The SDK's settings for the stand-in; an http agent because the SDK defaults to https. */
const sdkOptions = (over: Partial<UploadApiOptions> = {}): UploadApiOptions => ({
  cloud_name: ACCOUNT.cloudName,
  api_key: ACCOUNT.apiKey,
  api_secret: ACCOUNT.apiSecret,
  upload_prefix: fake.uploadPrefix,
  agent: new Agent(),
  ...over,
});

/** An upload through the SDK's own request signing and multipart encoding. */
const sdkUpload = (bytes: Uint8Array, options: UploadApiOptions): Promise<UploadApiResponse> =>
  new Promise((resolve, reject) => {
    const sink = cloudinary.uploader.upload_stream(options, (error, result) => (error || !result ? reject(error) : resolve(result)));
    sink.end(Buffer.from(bytes));
  });

const rejection = (p: Promise<unknown>): Promise<{ http_code?: number; message?: string }> =>
  p.then(
    () => {
      throw new Error("expected a refusal");
    },
    (e: unknown) => e as { http_code?: number; message?: string },
  );

const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");

describe("the Cloudinary stand-in", () => {
  it("accepts the SDK's signed upload and answers like Cloudinary", async () => {
    const png = await solidPng(30, 20);
    const before = Math.floor(Date.now() / 1000);
    const r = await sdkUpload(png, sdkOptions({ public_id: "sdk-upload", type: "authenticated", resource_type: "image", overwrite: true, tags: ["a", "b"] }));
    expect(r).toMatchObject({
      public_id: "sdk-upload",
      width: 30,
      height: 20,
      format: "png",
      resource_type: "image",
      type: "authenticated",
      bytes: png.byteLength,
      etag: createHash("md5").update(png).digest("hex"),
      tags: ["a", "b"],
    });
    expect(r.version).toBeGreaterThanOrEqual(before);
    expect(r.signature).toBe(sha1(`public_id=sdk-upload&version=${r.version}${ACCOUNT.apiSecret}`));
    // The SDK's own check of a response signature agrees.
    expect(r.signature).toBe(apiSignRequest({ public_id: r.public_id, version: r.version }, ACCOUNT.apiSecret, "sha1", 1));
    expect(new Date(r.created_at).getTime()).toBeGreaterThan(0);
    expect(r.secure_url).toMatch(new RegExp(`^${fake.deliveryBaseUrl}/fake-cloud/image/authenticated/s--[A-Za-z0-9_-]{8}--/v${r.version}/sdk-upload\\.png$`));
  });

  it("accepts SHA-256 request signatures too", async () => {
    const r = await sdkUpload(await solidPng(2, 2), sdkOptions({ public_id: "sha256-upload", signature_algorithm: "sha256" }));
    expect(r.public_id).toBe("sha256-upload");
  });

  it("refuses a request signed with another secret, as Cloudinary does", async () => {
    const e = await rejection(sdkUpload(await solidPng(2, 2), sdkOptions({ public_id: "forged", api_secret: "wrong" })));
    expect(e.http_code).toBe(401);
    expect(e.message).toMatch(/^Invalid Signature [0-9a-f]{40}\. String to sign - 'public_id=forged&timestamp=\d+'\.$/);
    expect(fake.assets().some((a) => a.publicId === "forged")).toBe(false);
  });

  it("refuses a correctly signed request whose params were changed afterwards", async () => {
    const signed = cloudinary.utils.sign_request({ public_id: "first", timestamp: Math.floor(Date.now() / 1000) }, { api_key: ACCOUNT.apiKey, api_secret: ACCOUNT.apiSecret });
    const form = new FormData();
    for (const [k, v] of Object.entries({ ...signed, public_id: "second" })) form.append(k, String(v));
    form.append("file", new Blob([await solidPng(2, 2)]), "file");
    const res = await fetch(`${fake.uploadPrefix}/v1_1/${ACCOUNT.cloudName}/image/upload`, { method: "POST", body: form });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^Invalid Signature/);
    // Unchanged, the same params go through (and fetch's own multipart encoding parses too).
    const good = new FormData();
    for (const [k, v] of Object.entries(signed)) good.append(k, String(v));
    good.append("file", new Blob([await solidPng(2, 2)]), "file");
    const accepted = await fetch(`${fake.uploadPrefix}/v1_1/${ACCOUNT.cloudName}/image/upload`, { method: "POST", body: good });
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as { public_id: string }).public_id).toBe("first");
  });

  it("refuses a stale timestamp (over an hour old) even when correctly signed", async () => {
    const e = await rejection(sdkUpload(await solidPng(2, 2), sdkOptions({ public_id: "stale", timestamp: Math.floor(Date.now() / 1000) - 3700 })));
    expect(e.http_code).toBe(400);
    expect(e.message).toMatch(/^Stale request - reported time is \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 which is more than 1 hour ago$/);
    await expect(sdkUpload(await solidPng(2, 2), sdkOptions({ public_id: "fresh", timestamp: Math.floor(Date.now() / 1000) - 3500 }))).resolves.toMatchObject({
      public_id: "fresh",
    });
  });

  it("refuses an unknown API key", async () => {
    const e = await rejection(sdkUpload(await solidPng(2, 2), sdkOptions({ api_key: "1111" })));
    expect(e).toMatchObject({ http_code: 401, message: "Unknown API key 1111" });
  });

  it("refuses non-image bytes as an image, and keeps them as raw", async () => {
    const bytes = new TextEncoder().encode("plain text");
    const e = await rejection(sdkUpload(bytes, sdkOptions({ public_id: "text", resource_type: "image" })));
    expect(e).toMatchObject({ http_code: 400, message: "Invalid image file" });
    const r = await sdkUpload(bytes, sdkOptions({ public_id: "text", resource_type: "raw", type: "authenticated" }));
    expect(r).toMatchObject({ resource_type: "raw", bytes: bytes.byteLength });
    expect(r.format).toBeUndefined();
  });

  it("serves signed delivery URLs and refuses forged or unknown ones", async () => {
    const png = await solidPng(5, 5);
    const r = await sdkUpload(png, sdkOptions({ public_id: "served", type: "authenticated" }));
    const res = await fetch(r.secure_url);
    expect([res.status, res.headers.get("content-type")]).toEqual([200, "image/png"]);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(png))).toBe(true);

    const sdkUrl = cloudinary.url("served", { cloud_name: ACCOUNT.cloudName, api_secret: ACCOUNT.apiSecret, sign_url: true, type: "authenticated", format: "png", version: r.version, urlAnalytics: false, raw_transformation: "c_fit,w_300/fl_attachment" });
    const attached = await fetch(sdkUrl.replace("https://res.cloudinary.com", fake.deliveryBaseUrl));
    expect([attached.status, attached.headers.get("content-disposition")]).toEqual([200, 'attachment; filename="served.png"']);
    await attached.body?.cancel();

    const forged = await fetch(r.secure_url.replace(/s--(.)/, (_m, c: string) => `s--${c === "A" ? "B" : "A"}`));
    expect(forged.status).toBe(401);
    const other = cloudinary.url("missing", { cloud_name: ACCOUNT.cloudName, api_secret: ACCOUNT.apiSecret, sign_url: true, type: "authenticated", format: "png", urlAnalytics: false });
    expect((await fetch(other.replace("https://res.cloudinary.com", fake.deliveryBaseUrl), { method: "HEAD" })).status).toBe(404);
  });

  it("destroys signed: ok, then not found", async () => {
    await sdkUpload(await solidPng(2, 2), sdkOptions({ public_id: "doomed", type: "authenticated" }));
    const destroy = () => cloudinary.uploader.destroy("doomed", sdkOptions({ type: "authenticated", invalidate: true }) as never);
    await expect(destroy()).resolves.toEqual({ result: "ok" });
    await expect(destroy()).resolves.toEqual({ result: "not found" });
    const e = await rejection(cloudinary.uploader.destroy("doomed", sdkOptions({ type: "authenticated", api_secret: "wrong" }) as never));
    expect(e.http_code).toBe(401);
  });

  it("deletes by prefix through the Admin API, with Basic credentials", async () => {
    for (const id of ["pre__r__a", "pre__r__b", "pre-keep"]) await sdkUpload(await solidPng(2, 2), sdkOptions({ public_id: id, type: "authenticated" }));
    const e = (await rejection(
      cloudinary.api.delete_resources_by_prefix("pre__r__", { ...sdkOptions({ api_secret: "wrong" }), resource_type: "image", type: "authenticated" }),
    )) as { error?: { http_code?: number } };
    expect(e.error?.http_code).toBe(401);
    expect(fake.assets().filter((a) => a.publicId.startsWith("pre__r__"))).toHaveLength(2);
    const r: unknown = await cloudinary.api.delete_resources_by_prefix("pre__r__", { ...sdkOptions(), resource_type: "image", type: "authenticated" });
    expect(r).toMatchObject({ deleted: { pre__r__a: "deleted", pre__r__b: "deleted" }, partial: false });
    expect(fake.assets().map((a) => a.publicId)).toContain("pre-keep");
    expect(fake.assets().some((a) => a.publicId.startsWith("pre__r__"))).toBe(false);
  });
});
