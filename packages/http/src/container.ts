import "reflect-metadata";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { container as rootContainer, type DependencyContainer } from "tsyringe";
import type {
  BlobStore,
  Clock,
  ExternalUploadVerifier,
  IdGenerator,
  ImageInspector,
  ImageRenderer,
  IdempotencyStore,
  ImageRepository,
  TokenIssuer,
  UrlSigner,
} from "@image-api/core";
import { filesystemBlobStore } from "@image-api/adapters/filesystem";
import { hmacUrlSigner } from "@image-api/adapters/hmac";
import { hmacTokenIssuer } from "@image-api/adapters/jwt";
import { backfillSearchColumns, migrate, postgresIdempotencyStore, postgresImageRepository, type SqlClient } from "@image-api/adapters/postgres";
import { routingUrlSigner } from "@image-api/adapters/routing";
import { sharpImageInspector, sharpImageRenderer } from "@image-api/adapters/sharp";
import type { Config } from "./config.js";
import type { AppDeps } from "./deps.js";
import { createMetrics, instrumentBlobStore, type Metrics } from "./observability/metrics.js";
import { defaultProbes, type Probes } from "./routes/health.routes.js";
import { defaultJwtSecret, generatesSecrets, loadOrCreateSecrets } from "./secrets.js";

/** Injection tokens: the only names adapters are known by outside this file. */
export const TOKENS = {
  ImageRepository: Symbol.for("image-api.ImageRepository"),
  IdempotencyStore: Symbol.for("image-api.IdempotencyStore"),
  BlobStore: Symbol.for("image-api.BlobStore"),
  UrlSigner: Symbol.for("image-api.UrlSigner"),
  TokenIssuer: Symbol.for("image-api.TokenIssuer"),
  Clock: Symbol.for("image-api.Clock"),
  IdGenerator: Symbol.for("image-api.IdGenerator"),
  ImageInspector: Symbol.for("image-api.ImageInspector"),
  ImageRenderer: Symbol.for("image-api.ImageRenderer"),
  ExternalUploadVerifier: Symbol.for("image-api.ExternalUploadVerifier"),
} as const;

export interface Composition {
  readonly container: DependencyContainer;
  readonly deps: AppDeps;
  /** True when this start generated the embedded default's secrets. */
  readonly secretsCreated: boolean;
  readonly metrics: Metrics;
  readonly probes: Probes;
  /** Removes temp files of writes a crash interrupted, older than the date (none on remote storage). */
  readonly removeStaleTemporaryFiles: (olderThan: Date) => Promise<number>;
  readonly close: () => Promise<void>;
}

// The database driver and the storage SDKs are loaded only for the backend configured: each one left
// out (the pg driver, PGlite's module, the S3 and Cloudinary SDKs) saves the process memory and start time.
const openDatabase = async (config: Config): Promise<SqlClient> => {
  const client = config.databaseUrl
    ? (await import("@image-api/adapters/postgres/pg")).createPgPoolClient({ connectionString: config.databaseUrl, max: config.dbPoolSize })
    : // Bounds what a restart after a crash replays (about 30 s of writes).
      await (await import("@image-api/adapters/postgres/pglite")).createPgliteClient({
        dataDir: join(config.dataDir, "db"),
        checkpointIntervalMs: 30_000,
        durable: config.embeddedDbFsync,
      });
  const migrated = await migrate(client)();
  if (migrated._tag === "Left") {
    await client.close();
    throw new Error(`database migration failed: ${migrated.left.message}`);
  }
  // Rows written before search existed get their search columns; a no-op (one indexed probe) after that.
  const filled = await backfillSearchColumns(client)();
  if (filled._tag === "Left") {
    await client.close();
    throw new Error(`filling the search columns failed: ${filled.left.message}`);
  }
  return client;
};

interface StorageAdapters {
  readonly blobs: BlobStore;
  readonly signer: UrlSigner;
  /** Set when clients may upload to the backend themselves and register the result. */
  readonly externalUploads?: ExternalUploadVerifier;
  /** Set when the backend stages writes in local temp files that a crash can leave behind. */
  readonly removeStaleTemporaryFiles?: (olderThan: Date) => Promise<number>;
}

const storageFor = async (config: Config, hmac: () => UrlSigner): Promise<StorageAdapters> => {
  const storage = config.storage;
  switch (storage.kind) {
    case "filesystem": {
      const blobs = filesystemBlobStore({ root: join(config.dataDir, "blobs") });
      return { blobs, signer: hmac(), removeStaleTemporaryFiles: blobs.removeStaleTemporaryFiles };
    }
    case "s3": {
      const { createS3Client, s3BlobStore, s3UrlSigner } = await import("@image-api/adapters/s3");
      const client = createS3Client({
        ...(storage.region ? { region: storage.region } : {}),
        ...(storage.endpoint ? { endpoint: storage.endpoint } : {}),
        forcePathStyle: storage.forcePathStyle,
      });
      const where = { client, bucket: storage.bucket, prefix: storage.prefix };
      // Originals are presigned S3 GETs; renditions are rendered here and cached in the bucket.
      return {
        blobs: s3BlobStore(where),
        signer: routingUrlSigner({ passThrough: s3UrlSigner({ ...where, ttlSeconds: config.urlTtlSeconds }), derived: hmac() }),
      };
    }
    case "cloudinary": {
      const { cloudinaryBlobStore, cloudinaryUploadVerifier, cloudinaryUrlSigner, parseCloudinaryUrl } = await import("@image-api/adapters/cloudinary");
      const parsed = parseCloudinaryUrl(storage.url);
      if (parsed._tag === "Left") throw new Error(parsed.left.message);
      const account = parsed.right;
      return {
        blobs: cloudinaryBlobStore(account),
        signer: cloudinaryUrlSigner(account),
        externalUploads: cloudinaryUploadVerifier({
          apiSecret: account.apiSecret,
          ...(account.signatureAlgorithm ? { signatureAlgorithm: account.signatureAlgorithm } : {}),
        }),
      };
    }
  }
};

/** The composition root: configuration in, adapters registered by token, the app's dependencies out. */
export const compose = async (config: Config, overrides: Partial<AppDeps> = {}): Promise<Composition> => {
  const needsEmbedded = (!config.jwtSecret && generatesSecrets(config)) || (!config.urlSigningKeys && config.storage.kind !== "cloudinary");
  const embedded = needsEmbedded ? await loadOrCreateSecrets(config.dataDir) : null;
  const jwtSecret = defaultJwtSecret(config, embedded?.secrets ?? null);
  const urlKeys = config.urlSigningKeys ?? (embedded ? [embedded.secrets.urlSigningKey] : []);
  const hmac = () => hmacUrlSigner({ baseUrl: config.publicUrl, keys: urlKeys, ttlSeconds: config.urlTtlSeconds });

  // Storage first: setting it up opens nothing, so a bad storage setting cannot leave a database open.
  const { blobs, signer, externalUploads, removeStaleTemporaryFiles } = await storageFor(config, hmac);
  // The database is opened for the adapters that need it: overriding both the repository and the
  // idempotency store (an embedder's own, or the in-memory ones) leaves nothing to open.
  const sql = overrides.images && overrides.idempotency ? null : await openDatabase(config);
  const metrics = createMetrics(sql?.stats ? { pool: sql.stats } : {});
  const c = rootContainer.createChildContainer();
  c.register<ImageRepository>(TOKENS.ImageRepository, { useValue: overrides.images ?? postgresImageRepository(sql!) });
  // The repository completes idempotency keys in its own transactions, so the two share a database.
  c.register<IdempotencyStore>(TOKENS.IdempotencyStore, { useValue: overrides.idempotency ?? postgresIdempotencyStore(sql!) });
  c.register<BlobStore>(TOKENS.BlobStore, { useValue: instrumentBlobStore(overrides.blobs ?? blobs, config.storage.kind, metrics) });
  c.register<UrlSigner>(TOKENS.UrlSigner, { useValue: overrides.signer ?? signer });
  const clock: Clock = overrides.clock ?? { now: () => new Date() };
  c.register<Clock>(TOKENS.Clock, { useValue: clock });
  c.register<TokenIssuer>(TOKENS.TokenIssuer, {
    useValue: overrides.tokens ?? hmacTokenIssuer({ secret: jwtSecret, issuers: config.jwtSecrets, now: () => clock.now() }),
  });
  c.register<IdGenerator>(TOKENS.IdGenerator, { useValue: overrides.ids ?? { uuid: randomUUID } });
  c.register<ImageInspector>(TOKENS.ImageInspector, { useValue: overrides.inspector ?? sharpImageInspector() });
  c.register<ImageRenderer>(TOKENS.ImageRenderer, { useValue: overrides.renderer ?? sharpImageRenderer() });
  const uploads = overrides.externalUploads ?? externalUploads;
  if (uploads) c.register<ExternalUploadVerifier>(TOKENS.ExternalUploadVerifier, { useValue: uploads });

  const deps: AppDeps = {
    images: c.resolve(TOKENS.ImageRepository),
    idempotency: c.resolve(TOKENS.IdempotencyStore),
    blobs: c.resolve(TOKENS.BlobStore),
    signer: c.resolve(TOKENS.UrlSigner),
    tokens: c.resolve(TOKENS.TokenIssuer),
    clock: c.resolve(TOKENS.Clock),
    ids: c.resolve(TOKENS.IdGenerator),
    inspector: c.resolve(TOKENS.ImageInspector),
    renderer: c.resolve(TOKENS.ImageRenderer),
    maxUploadBytes: config.maxUploadBytes,
    ...(c.isRegistered(TOKENS.ExternalUploadVerifier) ? { externalUploads: c.resolve<ExternalUploadVerifier>(TOKENS.ExternalUploadVerifier) } : {}),
  };
  return {
    container: c,
    deps,
    secretsCreated: embedded?.created ?? false,
    metrics,
    // Cloudinary's lookups go through its rate-limited Admin API, so readiness does not spend them.
    probes: config.storage.kind === "cloudinary" ? { database: defaultProbes(deps).database } : defaultProbes(deps),
    removeStaleTemporaryFiles: removeStaleTemporaryFiles ?? (async () => 0),
    close: async () => {
      await c.dispose();
      await sql?.close();
    },
  };
};
