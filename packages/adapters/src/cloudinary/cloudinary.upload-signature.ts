import { forbidden, type Forbidden } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import { safeEqual, signApiParams, type SignatureAlgorithm } from "./cloudinary.signature.js";

/** The part of an upload response that Cloudinary signs; form posts carry both as strings. */
export interface SignedUploadParams {
  readonly public_id: string;
  readonly version: string | number;
}

export interface VerifiedUpload {
  readonly publicId: string;
  readonly version: number;
}

export interface VerifyUploadSignatureInput {
  readonly apiSecret: string;
  readonly params: SignedUploadParams;
  readonly signature: string;
  readonly algorithm?: SignatureAlgorithm;
}

/**
 * Checks the `signature` of an upload response a client relays (the `cloudinary[...]` fields of the
 * register form): Cloudinary signs `public_id=<id>&version=<v>` plus the API secret, in the legacy
 * (version 1) string form, so only an upload made to our account passes.
 */
export const verifyUploadSignature = (input: VerifyUploadSignatureInput): E.Either<Forbidden, VerifiedUpload> => {
  const { public_id: publicId, version } = input.params;
  const v = typeof version === "number" ? version : /^\d{1,15}$/.test(version) ? Number(version) : NaN;
  if (publicId === "" || !Number.isSafeInteger(v)) return E.left(forbidden("upload response without public_id or version"));
  const expected = signApiParams({ public_id: publicId, version }, input.apiSecret, input.algorithm ?? "sha1", 1);
  return safeEqual(expected, input.signature.toLowerCase())
    ? E.right({ publicId, version: v })
    : E.left(forbidden("upload response signature does not match"));
};
