import { createHash, timingSafeEqual } from "node:crypto";

/**
 * How the upload API checks a request, written from Cloudinary's documentation independently of the
 * adapters' code so the fake can catch a signing mistake there: every param but `file`, `cloud_name`,
 * `resource_type`, `api_key` and `signature`, non-empty, sorted, `k=v` joined by `&`, then the secret.
 */
const UNSIGNED = new Set(["file", "cloud_name", "resource_type", "api_key", "signature"]);

export const stringToSign = (fields: Readonly<Record<string, string>>, escapeAmpersands: boolean): string =>
  Object.keys(fields)
    .filter((k) => !UNSIGNED.has(k) && fields[k] !== "")
    .sort((a, b) => a.localeCompare(b))
    .map((k) => {
      const pair = `${k}=${fields[k]}`;
      return escapeAmpersands ? pair.replace(/&/g, "%26") : pair;
    })
    .join("&");

const equal = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** SHA-1 (40 hex digits) or SHA-256 (64), whichever the signature's length says the client used. */
export const apiSignatureMatches = (fields: Readonly<Record<string, string>>, apiSecret: string): { ok: boolean; signed: string } => {
  const signature = (fields.signature ?? "").toLowerCase();
  const algorithm = signature.length === 64 ? "sha256" : "sha1";
  // Clients send the escaped (current) form; a value without `&` reads the same in the legacy form.
  const signed = stringToSign(fields, true);
  const expected = createHash(algorithm).update(signed + apiSecret).digest("hex");
  return { ok: equal(expected, signature), signed };
};

/** The signature Cloudinary puts in an upload response: legacy form, SHA-1. */
export const responseSignature = (publicId: string, version: number, apiSecret: string): string =>
  createHash("sha1").update(`public_id=${publicId}&version=${version}${apiSecret}`).digest("hex");

/** `s--XXXXXXXX--` over `<transformation>/<public_id>.<format>` (the version is not signed), with the account's digest. */
export const urlSignature = (signedPart: string, apiSecret: string, algorithm: "sha1" | "sha256" = "sha1"): string =>
  "s--" + createHash(algorithm).update(signedPart + apiSecret).digest("base64url").slice(0, 8) + "--";

export const urlSignatureMatches = (signature: string, signedPart: string, apiSecret: string, algorithm: "sha1" | "sha256" = "sha1"): boolean =>
  equal(urlSignature(signedPart, apiSecret, algorithm), signature);
