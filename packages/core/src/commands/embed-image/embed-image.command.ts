import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import type { Claims } from "../../auth/claims.codec.js";
import type { Image } from "../../image/image.js";
import { renditionSize, type PixelSize } from "../../image/rendition-size.js";
import type { Variant } from "../../image/rendition.js";
import type { ImageRepository } from "../../ports/image-repository.port.js";
import type { Forbidden, NotFound, Unavailable } from "../../shared/errors.js";
import { findAuthorized } from "../lookup.js";

/** One candidate of a responsive image: a rendition and the width it is delivered at. */
export interface EmbedSource {
  readonly variant: Variant;
  readonly width: number;
}

export interface ImageEmbed {
  readonly image: Image;
  /** The rendition an embed shows by default, and its size. */
  readonly main: { readonly variant: Variant; readonly size: PixelSize };
  /** The renditions a browser may pick from, narrowest first, one per width. */
  readonly sources: readonly EmbedSource[];
}

export const EMBED_MAIN: Variant = "full";
/** In order of preference when two of them come out equally wide. */
export const EMBED_SOURCES: readonly Variant[] = ["full", "large", "mini"];

/** What an embed of the image is made of; a width reached by two renditions is listed once, for the preferred one. */
export const embedOf = (image: Image): ImageEmbed => {
  const byWidth = new Map<number, EmbedSource>();
  for (const variant of EMBED_SOURCES) {
    const { width } = renditionSize(image, variant);
    if (!byWidth.has(width)) byWidth.set(width, { variant, width });
  }
  return {
    image,
    main: { variant: EMBED_MAIN, size: renditionSize(image, EMBED_MAIN) },
    sources: [...byWidth.values()].sort((a, b) => a.width - b.width),
  };
};

/** An image to embed in a page; it needs `image_list` on the image's album, as reading it does. */
export const embedImage =
  (deps: { readonly images: ImageRepository }) =>
  (caller: Claims, id: string): TE.TaskEither<NotFound | Forbidden | Unavailable, ImageEmbed> =>
    pipe(findAuthorized(deps.images)(caller, id, "image_list"), TE.map(embedOf));
