import type {
  BlobStore,
  Clock,
  ExternalUploadVerifier,
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
  /** Verifies uploads a client made straight to the storage backend; only some backends offer it. */
  readonly externalUploads?: ExternalUploadVerifier;
}
