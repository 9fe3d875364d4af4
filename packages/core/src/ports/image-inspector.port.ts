import type { TaskEither } from "fp-ts/lib/TaskEither.js";
import type { LatLon } from "../image/image.js";
import type { JsonObject } from "../shared/json.js";
import type { Unsupported, Unavailable } from "../shared/errors.js";

/** What reading the uploaded bytes tells about them. */
export interface Inspection {
  readonly format: string;
  readonly contentType: string;
  readonly width: number;
  readonly height: number;
  /** MD5 of the bytes, hex. */
  readonly etag: string;
  /** Average colour, `#RRGGBB`. */
  readonly color: string;
  readonly exifs: JsonObject;
  readonly takenAt: Date | null;
  readonly gps: LatLon | null;
}

export interface ImageInspector {
  readonly inspect: (bytes: Uint8Array) => TaskEither<Unsupported | Unavailable, Inspection>;
}
