import { Agent } from "node:http";
import { solidPng, startFakeCloudinary } from "@image-api/testkit";
import { v2 as cloudinary, type UploadApiResponse } from "cloudinary";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { verifyUploadSignature } from "../src/cloudinary/index.js";

/** The SDK's request signer; its typings leave out the algorithm and version arguments it takes. */
const apiSignRequest = cloudinary.utils.api_sign_request as unknown as (params: object, secret: string, algorithm: "sha1" | "sha256", version: 1 | 2) => string;
const SECRET = "a676b67565c6767a6767d6767f676fe1";
const leftTag = (r: E.Either<{ _tag: string }, unknown>): string => (E.isLeft(r) ? r.left._tag : "Right");

describe("verifyUploadSignature", () => {
  it("accepts the signature the SDK computes for an upload response, as a form would post it", () => {
    const signature = apiSignRequest({ public_id: "abc/def_1", version: 1554745132 }, SECRET, "sha1", 1);
    const r = verifyUploadSignature({ apiSecret: SECRET, params: { public_id: "abc/def_1", version: "1554745132" }, signature });
    expect(r).toEqual(E.right({ publicId: "abc/def_1", version: 1554745132 }));
  });

  it("accepts a real upload response and refuses it once any signed field changes", async () => {
    const account = { cloudName: "verify-cloud", apiKey: "42", apiSecret: SECRET };
    const fake = await startFakeCloudinary(account);
    try {
      const response = await new Promise<UploadApiResponse>((resolve, reject) => {
        const sink = cloudinary.uploader.upload_stream(
          { cloud_name: account.cloudName, api_key: account.apiKey, api_secret: SECRET, upload_prefix: fake.uploadPrefix, agent: new Agent(), public_id: "client-upload", type: "authenticated" },
          (error, result) => (error || !result ? reject(error) : resolve(result)),
        );
        void solidPng(4, 4).then((png) => sink.end(Buffer.from(png)));
      });
      const params = { public_id: response.public_id, version: String(response.version) };
      expect(verifyUploadSignature({ apiSecret: SECRET, params, signature: response.signature })).toEqual(
        E.right({ publicId: "client-upload", version: response.version }),
      );
      expect(leftTag(verifyUploadSignature({ apiSecret: SECRET, params: { ...params, version: String(response.version + 1) }, signature: response.signature }))).toBe("Forbidden");
      expect(leftTag(verifyUploadSignature({ apiSecret: SECRET, params: { ...params, public_id: "client-upload2" }, signature: response.signature }))).toBe("Forbidden");
      expect(leftTag(verifyUploadSignature({ apiSecret: "other-secret", params, signature: response.signature }))).toBe("Forbidden");
    } finally {
      await fake.close();
    }
  });

  it("takes the digest in either case and SHA-256 when the account signs with it", () => {
    const sha1 = apiSignRequest({ public_id: "x", version: 7 }, SECRET, "sha1", 1);
    expect(E.isRight(verifyUploadSignature({ apiSecret: SECRET, params: { public_id: "x", version: 7 }, signature: sha1.toUpperCase() }))).toBe(true);
    const sha256 = apiSignRequest({ public_id: "x", version: 7 }, SECRET, "sha256", 1);
    expect(E.isRight(verifyUploadSignature({ apiSecret: SECRET, params: { public_id: "x", version: 7 }, signature: sha256, algorithm: "sha256" }))).toBe(true);
    expect(leftTag(verifyUploadSignature({ apiSecret: SECRET, params: { public_id: "x", version: 7 }, signature: sha256 }))).toBe("Forbidden");
  });

  it.for([
    ["an empty public id", { public_id: "", version: "7" }],
    ["a version that is not a number", { public_id: "x", version: "7a" }],
    ["a negative version", { public_id: "x", version: "-7" }],
  ] as const)("refuses %s whatever the signature", ([, params]) => {
    const signature = apiSignRequest(params, SECRET, "sha1", 1);
    expect(leftTag(verifyUploadSignature({ apiSecret: SECRET, params, signature }))).toBe("Forbidden");
  });

  it("refuses an empty or garbage signature", () => {
    for (const signature of ["", "not-hex", "0".repeat(40)]) {
      expect(leftTag(verifyUploadSignature({ apiSecret: SECRET, params: { public_id: "x", version: 7 }, signature }))).toBe("Forbidden");
    }
  });
});
