import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { forbidden, isPassThrough, type DeliveryTarget, type UrlSigner } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import { mediaTypeOf } from "../shared/media-types.js";
import { contentDisposition } from "./s3.content-disposition.js";
import { s3Layout } from "./s3.keys.js";

export interface S3UrlSignerOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Same prefix as the s3BlobStore that wrote the blobs. */
  readonly prefix?: string;
  /** Every URL stays valid for at least this long after it was handed out. */
  readonly ttlSeconds: number;
  /**
   * URLs are signed as of the start of the current window of this many seconds, so every request in
   * that window gets the same URL and browsers and CDNs can cache it. Defaults to min(ttl, 1 hour);
   * 0 signs as of `now`.
   */
  readonly windowSeconds?: number;
}

/** SigV4 presigned URLs live at most a week. */
const MAX_EXPIRY = 7 * 24 * 3600;

/**
 * Presigned GETs straight from the bucket, for pass-through renditions only (the stored bytes as they
 * are); derived renditions are served by the service itself, see `routingUrlSigner`.
 *
 * `sign` rejects when asked for an edited rendition or when presigning fails (credentials could not
 * be resolved); `routingUrlSigner` never asks for the first and turns the second into a service URL.
 */
export const s3UrlSigner = (options: S3UrlSignerOptions): UrlSigner => {
  const { client, bucket, ttlSeconds } = options;
  const layout = s3Layout(options.prefix);
  const window = Math.max(0, Math.floor(options.windowSeconds ?? Math.min(ttlSeconds, 3600)));

  return {
    sign: (target: DeliveryTarget, now: Date) => async () => {
      if (!isPassThrough(target.rendition)) {
        throw new Error(`s3 URLs only serve stored bytes, not the edited ${target.rendition.variant} rendition`);
      }
      const nowSeconds = Math.floor(now.getTime() / 1000);
      const start = window > 0 ? nowSeconds - (nowSeconds % window) : nowSeconds;
      // start <= now < start + window, so at least `ttl` seconds remain when the URL is handed out.
      const expiresIn = Math.min(MAX_EXPIRY, ttlSeconds + window);
      // Forced on the response; an unknown format keeps the type stored with the object.
      const contentType = mediaTypeOf(target.format);
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: layout.blob(target.blobKey),
        ...(target.rendition.attachment ? { ResponseContentDisposition: contentDisposition("attachment", `${target.filename}.${target.format}`) } : {}),
        ...(contentType === undefined ? {} : { ResponseContentType: contentType }),
      });
      return getSignedUrl(client, command, { expiresIn, signingDate: new Date(start * 1000) });
    },
    // S3 checks its own signatures; only URLs the service signed itself come back here.
    verify: () => E.left(forbidden("not a service delivery URL")),
  };
};
