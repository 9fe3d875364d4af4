import type { BlobKey } from "@image-api/core";

/** Object-key layout inside the bucket: `<prefix>blobs/<key>` and `<prefix>renditions/<key>/<base64url(name)>`. */
export interface S3Layout {
  readonly blob: (key: BlobKey) => string;
  readonly rendition: (key: BlobKey, name: string) => string;
  /** Ends with "/" so one blob's renditions never match a longer key sharing its start. */
  readonly renditionsOf: (key: BlobKey) => string;
}

/** A prefix is a folder: "tenant-a" and "tenant-a/" mean the same place. */
export const normalizePrefix = (prefix: string | undefined): string =>
  !prefix ? "" : prefix.endsWith("/") ? prefix : `${prefix}/`;

export const s3Layout = (prefix?: string): S3Layout => {
  const root = normalizePrefix(prefix);
  // Rendition names contain "/" and ","; base64url keeps each one a single, reversible path segment.
  const encode = (name: string) => Buffer.from(name, "utf8").toString("base64url");
  return {
    blob: (key) => `${root}blobs/${key}`,
    rendition: (key, name) => `${root}renditions/${key}/${encode(name)}`,
    renditionsOf: (key) => `${root}renditions/${key}/`,
  };
};
