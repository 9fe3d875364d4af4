import { pipe } from "fp-ts/lib/function.js";
import * as T from "fp-ts/lib/Task.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { isPassThrough, renditionName } from "../../image/rendition.js";
import type { BlobContent, BlobStore } from "../../ports/blob-store.port.js";
import type { Clock } from "../../ports/clock.port.js";
import type { ImageRenderer } from "../../ports/image-renderer.port.js";
import type { DeliveryTarget, UrlSigner } from "../../ports/url-signer.port.js";
import { collect, streamOf } from "../../shared/bytes.js";
import { unavailable, type Forbidden, type NotFound, type Unavailable, type Unsupported } from "../../shared/errors.js";

export interface DeliverRenditionDeps {
  readonly blobs: BlobStore;
  readonly signer: UrlSigner;
  readonly renderer: ImageRenderer;
  readonly clock: Clock;
}

export interface Delivery extends BlobContent {
  readonly target: DeliveryTarget;
}

/** Upper bound on an original read into memory for rendering; uploads are capped well below it. */
const MAX_RENDER_SOURCE = 512 * 1024 * 1024;

const renderAndCache = (deps: DeliverRenditionDeps, target: DeliveryTarget, name: string) =>
  pipe(
    deps.blobs.get(target.blobKey),
    TE.chainW((content) => TE.tryCatch(() => collect(content.body, MAX_RENDER_SOURCE), (e) => unavailable("could not read the original", e))),
    TE.chainW((original) => deps.renderer.render(original, target.rendition, target.format)),
    // The cache is an optimisation: a failed write still serves the rendered bytes.
    TE.chainFirstTaskK((r) => pipe(deps.blobs.putRendition(target.blobKey, name, r.bytes, r.contentType), T.map(() => undefined))),
    TE.map((r): BlobContent => ({ body: streamOf(r.bytes), bytes: r.bytes.byteLength, contentType: r.contentType })),
  );

/** Serves a signed delivery URL: the stored bytes as they are, or a rendition rendered once and cached. */
export const deliverRendition =
  (deps: DeliverRenditionDeps) =>
  (url: string): TE.TaskEither<Forbidden | NotFound | Unsupported | Unavailable, Delivery> =>
    pipe(
      TE.fromEither(deps.signer.verify(url, deps.clock.now())),
      TE.chainW((target) => {
        const name = renditionName(target.rendition);
        const content = isPassThrough(target.rendition)
          ? deps.blobs.get(target.blobKey)
          : pipe(
              deps.blobs.getRendition(target.blobKey, name),
              TE.orElseW((e) => (e._tag === "NotFound" ? renderAndCache(deps, target, name) : TE.left(e))),
            );
        return pipe(
          content,
          TE.map((c) => ({ ...c, target })),
        );
      }),
    );
