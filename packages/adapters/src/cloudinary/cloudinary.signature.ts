import { createHash, timingSafeEqual } from "node:crypto";

/** The digests Cloudinary accepts for API signatures; an account is set to one of them. */
export type SignatureAlgorithm = "sha1" | "sha256";

export type SignableValue = string | number | boolean | readonly (string | number)[] | null | undefined;

/**
 * Cloudinary's string to sign for API calls: non-empty params sorted by name, `k=v` joined by `&`
 * (arrays comma-joined). Version 2 escapes `&` inside each pair so a value cannot smuggle in a
 * second parameter; version 1 is the legacy form, still used for upload-response signatures.
 */
export const apiStringToSign = (params: Readonly<Record<string, SignableValue>>, version: 1 | 2 = 2): string =>
  Object.entries(params)
    .map(([k, v]): [string, SignableValue] => [k, Array.isArray(v) ? v.join(",") : v])
    .filter((kv): kv is [string, string | number | boolean] => kv[1] !== null && kv[1] !== undefined && kv[1] !== "")
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => (version >= 2 ? `${k}=${v}`.replace(/&/g, "%26") : `${k}=${v}`))
    .join("&");

/** Hex signature of API params, as `api_sign_request` computes it. */
export const signApiParams = (
  params: Readonly<Record<string, SignableValue>>,
  apiSecret: string,
  algorithm: SignatureAlgorithm = "sha1",
  version: 1 | 2 = 2,
): string =>
  createHash(algorithm)
    .update(apiStringToSign(params, version) + apiSecret)
    .digest("hex");

/**
 * The `s--XXXXXXXX--` path segment of a signed delivery URL: the first 8 characters of the URL-safe
 * base64 digest of the transformation and `public_id.format` (the version is not signed) plus the
 * secret. The digest is the account's signature algorithm, as the SDK's `url()` computes it.
 */
export const deliverySignature = (toSign: string, apiSecret: string, algorithm: SignatureAlgorithm = "sha1"): string => {
  const digest = createHash(algorithm)
    .update(toSign + apiSecret)
    .digest("base64")
    .slice(0, 8)
    .replace(/\//g, "_")
    .replace(/\+/g, "-");
  return `s--${digest}--`;
};

/** Constant-time string equality, so a forged signature cannot be found byte by byte. */
export const safeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
};
