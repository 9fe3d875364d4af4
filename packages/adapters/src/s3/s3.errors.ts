import { notFound, unavailable, type NotFound, type Unavailable } from "@image-api/core";

interface SdkErrorShape {
  readonly name?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

const shape = (e: unknown): SdkErrorShape => (typeof e === "object" && e !== null ? (e as SdkErrorShape) : {});

/**
 * A missing object: GetObject says NoSuchKey, HeadObject only has the 404 status (no body).
 * A missing bucket is a misconfiguration, not a missing blob, so it stays Unavailable.
 */
export const isMissingObject = (e: unknown): boolean => {
  const { name, $metadata } = shape(e);
  if (name === "NoSuchBucket") return false;
  return name === "NoSuchKey" || name === "NotFound" || $metadata?.httpStatusCode === 404;
};

const describe = (e: unknown): string => {
  const { name, $metadata } = shape(e);
  const status = $metadata?.httpStatusCode;
  const message = e instanceof Error ? e.message : String(e);
  return [typeof name === "string" && name !== "Error" ? name : null, typeof status === "number" ? `HTTP ${status}` : null, message]
    .filter((p): p is string => p !== null && p !== "")
    .join(": ");
};

export const s3Unavailable =
  (what: string) =>
  (e: unknown): Unavailable =>
    unavailable(`s3 ${what} failed (${describe(e)})`, e);

export const s3NotFoundOrUnavailable =
  (what: string, missing: string) =>
  (e: unknown): NotFound | Unavailable =>
    isMissingObject(e) ? notFound(missing) : s3Unavailable(what)(e);
