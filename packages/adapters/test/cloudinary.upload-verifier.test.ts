import { Agent } from "node:http";
import type { ExternalAsset, JsonObject } from "@image-api/core";
import { solidPng, startFakeCloudinary, type FakeCloudinary } from "@image-api/testkit";
import { v2 as cloudinary, type UploadApiResponse } from "cloudinary";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloudinaryUploadVerifier } from "../src/cloudinary/index.js";

/** The SDK's request signer; its typings leave out the algorithm and version arguments it takes. */
const apiSignRequest = cloudinary.utils.api_sign_request as unknown as (params: object, secret: string, algorithm: "sha1" | "sha256", version: 1 | 2) => string;
const ACCOUNT = { cloudName: "verifier-cloud", apiKey: "614335564976464", apiSecret: "a676b67565c6767a6767d6767f676fe1" };
const verifier = cloudinaryUploadVerifier({ apiSecret: ACCOUNT.apiSecret });

/** What a browser's form carries: every scalar of the upload response as a string. */
const asForm = (value: unknown): JsonObject =>
  JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === "number" || typeof v === "boolean" ? String(v) : v))) as JsonObject;

const verify = async (fields: JsonObject, v = verifier): Promise<E.Either<{ _tag: string; message: string; issues?: readonly { field: string }[] }, ExternalAsset>> =>
  v.verify(fields)();

const leftOf = async (fields: JsonObject, v = verifier) => {
  const r = await verify(fields, v);
  if (E.isRight(r)) throw new Error("expected a refusal");
  return r.left;
};

/** Fields signed like Cloudinary signs an upload response, for ids the fake would not produce. */
const signed = (fields: JsonObject, algorithm: "sha1" | "sha256" = "sha1"): JsonObject => ({
  ...fields,
  signature: apiSignRequest({ public_id: fields.public_id, version: fields.version }, ACCOUNT.apiSecret, algorithm, 1),
});

const BASE: JsonObject = { public_id: "client-asset", version: "1554745132", width: "295", height: "171", format: "jpg", bytes: "10668", type: "authenticated", resource_type: "image", etag: "bd9f2c8ae3bd4dc4d0e4bb2a4b7ca15f" };

let fake: FakeCloudinary;
let response: UploadApiResponse;
let png: Uint8Array;

beforeAll(async () => {
  fake = await startFakeCloudinary(ACCOUNT);
  png = await solidPng(30, 20);
  // What a browser gets back from a signed direct upload.
  response = await new Promise<UploadApiResponse>((resolve, reject) => {
    const sink = cloudinary.uploader.upload_stream(
      { cloud_name: ACCOUNT.cloudName, api_key: ACCOUNT.apiKey, api_secret: ACCOUNT.apiSecret, upload_prefix: fake.uploadPrefix, agent: new Agent(), public_id: "browser-upload", type: "authenticated" },
      (error, result) => (error || !result ? reject(error ?? new Error("no result")) : resolve(result)),
    );
    sink.end(Buffer.from(png));
  });
});
afterAll(() => fake.close());

describe("cloudinaryUploadVerifier", () => {
  it("accepts a real upload response as a form relays it and describes the asset from it", async () => {
    const fields = asForm(response);
    const r = await verify(fields);
    if (E.isLeft(r)) throw new Error(r.left.message);
    expect(r.right).toEqual({
      blob: { key: "browser-upload", format: "png", contentType: "image/png", bytes: png.byteLength, etag: response.etag, version: response.version },
      width: 30,
      height: 20,
      exifs: {},
      takenAt: null,
      gps: null,
      color: "#",
      originalFilename: fields.original_filename ?? "browser-upload",
      infos: fields,
    });
    expect(typeof r.right.infos.width).toBe("string");
  });

  it("takes exifs from image_metadata, taken_at from DateTimeOriginal (as UTC) and the colour from the first of colors", async () => {
    const metadata = { DateTimeOriginal: "2018:01:01 08:00:00", Make: "Canon", ExifImageWidth: "295" };
    const r = await verify({ ...asForm(response), image_metadata: metadata, colors: [["#F3A2B1", "60.2"], ["#000000", "39.8"]] });
    if (E.isLeft(r)) throw new Error(r.left.message);
    expect(r.right).toMatchObject({ exifs: metadata, takenAt: new Date("2018-01-01T08:00:00.000Z"), color: "#F3A2B1" });
  });

  it.for([
    ["an array of pairs", [["#ABCDEF", "51"]], "#ABCDEF"],
    ["pairs keyed by index, as deep form fields parse", { 0: { 0: "#123456", 1: "51" } }, "#123456"],
    ["plain colour names", ["#FEDCBA"], "#FEDCBA"],
    ["something that is no colour", [["blue", "51"]], "#"],
    ["an empty list", [], "#"],
  ] as const)("reads colors given as %s", async ([, colors, color]) => {
    const r = await verify({ ...asForm(response), colors: colors as never });
    expect(E.isRight(r) && r.right.color).toBe(color);
  });

  it("accepts numbers where a JSON body sends them", async () => {
    const r = await verify({ ...response } as unknown as JsonObject);
    expect(E.isRight(r) && r.right.blob).toMatchObject({ key: "browser-upload", version: response.version, bytes: png.byteLength });
  });

  it("ignores an unreadable DateTimeOriginal", async () => {
    const r = await verify({ ...asForm(response), image_metadata: { DateTimeOriginal: "2018:13:45 99:00:00" } });
    expect(E.isRight(r) && r.right.takenAt).toBeNull();
  });

  it("refuses the response once a signed field changes, or under another account's secret", async () => {
    const fields = asForm(response);
    expect((await leftOf({ ...fields, version: String(response.version + 1) }))._tag).toBe("Forbidden");
    expect((await leftOf({ ...fields, public_id: "someone-elses" }))._tag).toBe("Forbidden");
    expect((await leftOf({ ...fields, signature: "0".repeat(40) }))._tag).toBe("Forbidden");
    expect((await leftOf(fields, cloudinaryUploadVerifier({ apiSecret: "another-accounts-secret" })))._tag).toBe("Forbidden");
  });

  it("checks SHA-256 signatures for an account set to them", async () => {
    const sha256 = cloudinaryUploadVerifier({ apiSecret: ACCOUNT.apiSecret, signatureAlgorithm: "sha256" });
    expect(E.isRight(await verify(signed(BASE, "sha256"), sha256))).toBe(true);
    expect((await leftOf(signed(BASE, "sha1"), sha256))._tag).toBe("Forbidden");
  });

  it("names the missing fields that a signature needs", async () => {
    const left = await leftOf({ width: "1" });
    expect(left._tag).toBe("Invalid");
    expect(left.issues?.map((i) => i.field)).toEqual(["cloudinary[public_id]", "cloudinary[version]", "cloudinary[signature]"]);
  });

  it.for([
    ["a public id in a folder", { public_id: "albums/holiday" }, "cloudinary[public_id]"],
    ["a public id with a dot", { public_id: "holiday.jpg" }, "cloudinary[public_id]"],
    ["a raw asset", { resource_type: "raw" }, "cloudinary[resource_type]"],
    ["a public (upload) asset", { type: "upload" }, "cloudinary[type]"],
    ["no type", { type: undefined }, "cloudinary[type]"],
    ["a zero width", { width: "0" }, "cloudinary[width]"],
    ["a height that is no number", { height: "tall" }, "cloudinary[height]"],
    ["no bytes", { bytes: undefined }, "cloudinary[bytes]"],
    ["a format the API does not take", { format: "pdf" }, "cloudinary[format]"],
    ["image_metadata that is no object", { image_metadata: "x" }, "cloudinary[image_metadata]"],
  ] as const)("refuses a correctly signed response with %s as Invalid", async ([, override, name]) => {
    const fields = Object.fromEntries(Object.entries({ ...BASE, ...override }).filter(([, v]) => v !== undefined)) as JsonObject;
    const left = await leftOf(signed(fields));
    expect(left._tag).toBe("Invalid");
    expect(left.issues?.map((i) => i.field)).toEqual([name]);
  });

  it("accepts the same response built by hand, proving the refusals above are about one field each", async () => {
    const r = await verify(signed(BASE));
    expect(E.isRight(r) && r.right).toMatchObject({
      blob: { key: "client-asset", format: "jpg", contentType: "image/jpeg", bytes: 10668, version: 1554745132 },
      originalFilename: "client-asset",
    });
  });
});
