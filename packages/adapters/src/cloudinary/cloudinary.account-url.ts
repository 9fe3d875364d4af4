import { invalidField, type Invalid } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import type { CloudinaryAccount } from "./cloudinary.sdk.js";

export interface CloudinaryUrlSettings extends CloudinaryAccount {
  /** Delivery host when not `res.cloudinary.com` (a CNAME). */
  readonly secureDistribution?: string;
  /** Delivery origin when it is plain HTTP (`secure=false`, host from `cname`); overrides `secureDistribution`. */
  readonly deliveryBaseUrl?: string;
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;

/**
 * Reads Cloudinary's own `CLOUDINARY_URL` form, `cloudinary://<api_key>:<api_secret>@<cloud_name>`,
 * with the optional `upload_prefix`, `secure_distribution`, `secure`, `cname` and `signature_algorithm`
 * query settings, named like the SDK's configuration keys. As in the SDK, `secure=false` delivers over
 * plain HTTP from `cname` (default `res.cloudinary.com`).
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
  const secure = url.searchParams.get("secure");
  if (secure !== null && secure !== "true" && secure !== "false") return E.left(invalidField(field, "secure must be true or false"));
  const cname = url.searchParams.get("cname");
  if (cname !== null && !HOST.test(cname)) return E.left(invalidField(field, "cname must be a host name, with an optional port"));
  const uploadPrefix = url.searchParams.get("upload_prefix");
  const secureDistribution = url.searchParams.get("secure_distribution");
  const deliveryBaseUrl = secure === "false" ? `http://${cname ?? "res.cloudinary.com"}` : null;
  return E.right({
    cloudName,
    apiKey,
    apiSecret,
    ...(uploadPrefix ? { uploadPrefix } : {}),
    ...(secureDistribution ? { secureDistribution } : {}),
    ...(deliveryBaseUrl ? { deliveryBaseUrl } : {}),
    ...(algorithm ? { signatureAlgorithm: algorithm } : {}),
  });
};
