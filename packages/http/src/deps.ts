import type {
  BlobStore,
  Clock,
  IdGenerator,
  ImageInspector,
  ImageRenderer,
  ImageRepository,
  TokenIssuer,
  UrlSigner,
} from "@image-api/core";

/** Everything the HTTP host needs, resolved by the composition root. */
export interface AppDeps {
  readonly images: ImageRepository;
  readonly blobs: BlobStore;
  readonly signer: UrlSigner;
  readonly tokens: TokenIssuer;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly inspector: ImageInspector;
  readonly renderer: ImageRenderer;
  readonly maxUploadBytes: number;
}
