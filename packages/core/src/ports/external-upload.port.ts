import type { TaskEither } from "fp-ts/lib/TaskEither.js";
import type { BlobRef, LatLon } from "../image/image.js";
import type { Forbidden, Invalid } from "../shared/errors.js";
import type { JsonObject } from "../shared/json.js";

/** An asset the client stored with the backend itself, as far as its verified upload response tells. */
export interface ExternalAsset {
  /** The asset as a blob: its key is the backend's id for it. */
  readonly blob: BlobRef;
  readonly width: number;
  readonly height: number;
  readonly exifs: JsonObject;
  readonly takenAt: Date | null;
  readonly gps: LatLon | null;
  /** `#RRGGBB`, or `#` when the backend reported no colour. */
  readonly color: string;
  /** Without extension. */
  readonly originalFilename: string;
  /** Stored as the image's `infos`: the upload response as the client relayed it. */
  readonly infos: JsonObject;
}

/**
 * Checks an upload response a client relays (e.g. the `cloudinary[...]` fields of a form): Forbidden
 * when it was not issued for this service's account, Invalid when it does not describe a usable image.
 */
export interface ExternalUploadVerifier {
  readonly verify: (fields: JsonObject) => TaskEither<Forbidden | Invalid, ExternalAsset>;
}
