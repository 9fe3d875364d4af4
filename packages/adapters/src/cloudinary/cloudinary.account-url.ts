import { invalidField, type Invalid } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import type { CloudinaryAccount } from "./cloudinary.sdk.js";

export interface CloudinaryUrlSettings extends CloudinaryAccount {
  /** Delivery host when not `res.cloudinary.com` (a CNAME). */
  readonly secureDistribution?: string;
}

/**
 * Reads Cloudinary's own `CLOUDINARY_URL` form, `cloudinary://<api_key>:<api_secret>@<cloud_name>`,
 * with the optional `upload_prefix`, `secure_distribution` and `signature_algorithm` query settings.
 */
export const parseCloudinaryUrl = (value: string, field = "CLOUDINARY_URL"): E.Either<Invalid, CloudinaryUrlSettings> => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return E.left(invalidField(field, "must look like cloudinary://<api_key>:<api_secret>@<cloud_name>"));
  }
  const apiKey = decodeURIComponent(url.username);
  const apiSecret = decodeURIComponent(url.password);
  const cloudName = url.hostname;
  if (url.protocol !== "cloudinary:" || !apiKey || !apiSecret || !cloudName) {
    return E.left(invalidField(field, "must look like cloudinary://<api_key>:<api_secret>@<cloud_name>"));
  }
  const algorithm = url.searchParams.get("signature_algorithm");
  if (algorithm !== null && algorithm !== "sha1" && algorithm !== "sha256") {
    return E.left(invalidField(field, "signature_algorithm must be sha1 or sha256"));
  }
  const uploadPrefix = url.searchParams.get("upload_prefix");
  const secureDistribution = url.searchParams.get("secure_distribution");
  return E.right({
    cloudName,
    apiKey,
    apiSecret,
    ...(uploadPrefix ? { uploadPrefix } : {}),
    ...(secureDistribution ? { secureDistribution } : {}),
    ...(algorithm ? { signatureAlgorithm: algorithm } : {}),
  });
};
