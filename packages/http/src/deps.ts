import type {
  BlobStore,
  Clock,
  ExternalUploadVerifier,
  IdempotencyStore,
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
  /** Shares the repository's database: the repository completes the keys this store claims. */
  readonly idempotency: IdempotencyStore;
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
