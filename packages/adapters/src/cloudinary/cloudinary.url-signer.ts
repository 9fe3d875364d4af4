import { BlobKey, forbidden, type DeliveryTarget, type Forbidden, type UrlSigner } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import * as T from "fp-ts/lib/Task.js";
import { signedDeliveryPath, verifyDeliveryPath } from "./cloudinary.delivery-url.js";
import type { SignatureAlgorithm } from "./cloudinary.signature.js";
import { renditionOfTransformation, transformationOf } from "./cloudinary.transformation.js";

export interface CloudinaryUrlSignerOptions {
  readonly cloudName: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** Delivery host, e.g. a CNAME; defaults to the shared `res.cloudinary.com`. */
  readonly secureDistribution?: string;
  /** Whole delivery origin (e.g. `http://…` with `secure=false`); overrides `secureDistribution`. */
  readonly deliveryBaseUrl?: string;
  /** The account's signature algorithm; the SDK signs delivery URLs with it too. Default `sha1`. */
  readonly signatureAlgorithm?: SignatureAlgorithm;
}

export const CLOUDINARY_SHARED_CDN = "res.cloudinary.com";

/**
 * Signed `image/authenticated` delivery URLs, byte for byte what the Cloudinary SDK's `url()` makes
 * with `sign_url`. Cloudinary checks the signature and renders the transformation itself, so these
 * URLs carry no expiry and `now` is unused.
 */
export const cloudinaryUrlSigner = (options: CloudinaryUrlSignerOptions): UrlSigner => {
  const origin = options.deliveryBaseUrl?.replace(/\/+$/, "") ?? `https://${options.secureDistribution ?? CLOUDINARY_SHARED_CDN}`;

  const urlOf = (target: DeliveryTarget): string =>
    origin +
    signedDeliveryPath(
      {
        cloudName: options.cloudName,
        resourceType: "image",
        type: "authenticated",
        transformation: transformationOf(target.rendition),
        version: target.version,
        publicId: target.blobKey,
        format: target.format,
      },
      options.apiSecret,
      options.signatureAlgorithm,
    );

  const verify = (url: string): E.Either<Forbidden, DeliveryTarget> => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return E.left(forbidden("not a delivery URL"));
    }
    if (parsed.origin !== origin) return E.left(forbidden("not a delivery URL of this signer"));
    const path = verifyDeliveryPath(parsed.pathname, options.apiSecret, options.signatureAlgorithm);
    if (path === null) return E.left(forbidden("bad delivery URL signature"));
    if (path.cloudName !== options.cloudName || path.resourceType !== "image" || path.type !== "authenticated") {
      return E.left(forbidden("delivery URL of another cloud or asset type"));
    }
    // The version is not covered by the signature (as on Cloudinary itself); it only busts caches.
    if (path.version === null || path.format === null || !BlobKey.is(path.publicId)) {
      return E.left(forbidden("delivery URL without version, format or a valid public id"));
    }
    const rendition = renditionOfTransformation(path.transformation);
    if (rendition === null) return E.left(forbidden("unknown delivery transformation"));
    // Cloudinary names attachments after the public id; the URL carries no other name.
    return E.right({ blobKey: path.publicId, format: path.format, version: path.version, rendition, filename: path.publicId });
  };

  return {
    sign: (target) => T.of(urlOf(target)),
    verify: (url) => verify(url),
  };
};
