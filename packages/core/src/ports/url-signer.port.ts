import type { Either } from "fp-ts/lib/Either.js";
import type { Task } from "fp-ts/lib/Task.js";
import type { Rendition } from "../image/rendition.js";
import type { Forbidden } from "../shared/errors.js";
import type { BlobKey } from "../shared/ids.js";

/** Everything a delivery URL must pin down to be served without looking anything else up. */
export interface DeliveryTarget {
  readonly blobKey: BlobKey;
  readonly format: string;
  readonly version: number;
  readonly rendition: Rendition;
  /** Download name without extension. */
  readonly filename: string;
}

export interface UrlSigner {
  /**
   * A URL that serves `target`; it may carry an expiry counted from `now`. A Task because some
   * backends sign with credentials that are fetched and refreshed asynchronously (S3).
   */
  readonly sign: (target: DeliveryTarget, now: Date) => Task<string>;
  /** Recovers the target of a URL this signer made, refusing tampered or expired ones. */
  readonly verify: (url: string, now: Date) => Either<Forbidden, DeliveryTarget>;
}
