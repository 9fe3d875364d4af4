import { isPassThrough, type UrlSigner } from "@image-api/core";

export interface RoutingUrlSignerOptions {
  /** Signs URLs for the stored bytes as they are, e.g. presigned object-store URLs. */
  readonly passThrough: UrlSigner;
  /** Signs URLs the service serves itself (edited renditions), and verifies them when they come back. */
  readonly derived: UrlSigner;
}

/**
 * Sends pass-through renditions to the object store and everything else through the service.
 * The service can serve stored bytes too, so a pass-through signer that fails falls back to `derived`.
 */
export const routingUrlSigner = ({ passThrough, derived }: RoutingUrlSignerOptions): UrlSigner => ({
  sign: (target, now) =>
    isPassThrough(target.rendition) ? () => passThrough.sign(target, now)().catch(() => derived.sign(target, now)()) : derived.sign(target, now),
  verify: (url, now) => derived.verify(url, now),
});
