import type { TaskEither } from "fp-ts/lib/TaskEither.js";
import type { Rendition } from "../image/rendition.js";
import type { Unsupported, Unavailable } from "../shared/errors.js";

export interface Rendered {
  readonly bytes: Uint8Array;
  readonly contentType: string;
}

/** Produces a derived rendition from the original bytes. */
export interface ImageRenderer {
  readonly render: (original: Uint8Array, rendition: Rendition, format: string) => TaskEither<Unsupported | Unavailable, Rendered>;
}
