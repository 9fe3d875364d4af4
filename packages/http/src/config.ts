import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { parseCloudinaryUrl } from "@image-api/adapters/cloudinary/account-url";

const intFromString = (name: string, min: number, max: number) =>
  new t.Type<number, string, unknown>(
    name,
    (u): u is number => typeof u === "number",
    (u, c) => {
      if (typeof u !== "string" || !/^\d+$/.test(u.trim())) return t.failure(u, c, `must be a whole number from ${min} to ${max}`);
      const n = Number(u);
      return n >= min && n <= max ? t.success(n) : t.failure(u, c, `must be a whole number from ${min} to ${max}`);
    },
    String,
  );

const httpUrl = new t.Type<string, string, unknown>(
  "HttpUrl",
  (u): u is string => typeof u === "string",
  (u, c) => {
    if (typeof u !== "string") return t.failure(u, c, "must be a URL");
    try {
      const url = new URL(u);
      return /^https?:$/.test(url.protocol) ? t.success(u.replace(/\/+$/, "")) : t.failure(u, c, "must be an http(s) URL");
    } catch {
      return t.failure(u, c, "must be an absolute http(s) URL");
    }
  },
  t.identity,
);

const postgresUrl = new t.Type<string, string, unknown>(
  "PostgresUrl",
  (u): u is string => typeof u === "string",
  (u, c) => (typeof u === "string" && /^postgres(ql)?:\/\//.test(u) ? t.success(u) : t.failure(u, c, "must be a postgres:// URL")),
  t.identity,
);

// Parsed here as the composition will parse it, so a bad query setting (secure, cname, …) also stops the start.
const cloudinaryUrl = new t.Type<string, string, unknown>(
  "CloudinaryUrl",
  (u): u is string => typeof u === "string",
  (u, c) => {
    if (typeof u !== "string") return t.failure(u, c, "must look like cloudinary://<api_key>:<api_secret>@<cloud_name>");
    const parsed = parseCloudinaryUrl(u);
    // The echoed value must not carry the API secret into logs.
    const shown = u.replace(/^(\w+:\/\/[^:@/]*):[^@/]*@/, "$1:***@");
    return E.isRight(parsed) ? t.success(u) : t.failure(shown, c, parsed.left.issues[0]?.message ?? parsed.left.message);
  },
  t.identity,
);

const boolFromString = new t.Type<boolean, string, unknown>(
  "Bool",
  (u): u is boolean => typeof u === "boolean",
  (u, c) => (u === "true" || u === "1" ? t.success(true) : u === "false" || u === "0" ? t.success(false) : t.failure(u, c, "must be true or false")),
  String,
);

const nonEmpty = (name: string, minLength: number) =>
  new t.Type<string, string, unknown>(
    name,
    (u): u is string => typeof u === "string",
    (u, c) => (typeof u === "string" && u.length >= minLength ? t.success(u) : t.failure(u, c, `must be at least ${minLength} characters`)),
    t.identity,
  );

const keyList = new t.Type<string[], string, unknown>(
  "KeyList",
  (u): u is string[] => Array.isArray(u),
  (u, c) => {
    const keys = typeof u === "string" ? u.split(",").map((k) => k.trim()).filter(Boolean) : [];
    return keys.length > 0 && keys.every((k) => k.length >= 32)
      ? t.success(keys)
      : t.failure(u, c, "must be a comma-separated list of keys, each at least 32 characters (the first one signs)");
  },
  (keys) => keys.join(","),
);

/**
 * `iss=secret` pairs, comma-separated: the HS256 secrets of the tenants keyed by a token's issuer. An
 * issuer listed again gains a secret it verifies with (rotation); its first one signs. Problems name
 * entries by position only: a malformed entry may well be a secret.
 */
const issuerSecrets = new t.Type<ReadonlyMap<string, readonly string[]>, string, unknown>(
  "IssuerSecrets",
  (u): u is ReadonlyMap<string, readonly string[]> => u instanceof Map,
  (u, c) => {
    const entries = typeof u === "string" ? u.split(",").map((e) => e.trim()).filter(Boolean) : [];
    const problems: string[] = entries.length === 0 ? ["no pair given"] : [];
    const byIssuer = new Map<string, string[]>();
    const ownerOf = new Map<string, string>();
    for (const [i, entry] of entries.entries()) {
      const at = `entry ${i + 1}`;
      const eq = entry.indexOf("=");
      if (eq < 0) {
        problems.push(`${at} is not iss=secret`);
        continue;
      }
      const iss = entry.slice(0, eq).trim();
      const secret = entry.slice(eq + 1).trim();
      if (iss === "") problems.push(`${at} has an empty iss`);
      else if (/[\s\p{Cc}]/u.test(iss)) problems.push(`${at} has spaces or control characters in its iss`);
      if (secret.length < 32) problems.push(`${at} has a secret shorter than 32 characters`);
      const owner = ownerOf.get(secret);
      if (owner !== undefined && owner !== iss) problems.push(`${at} reuses another issuer's secret (each tenant needs its own)`);
      ownerOf.set(secret, iss);
      const secrets = byIssuer.get(iss) ?? [];
      if (!secrets.includes(secret)) secrets.push(secret);
      byIssuer.set(iss, secrets);
    }
    return problems.length === 0
      ? t.success(byIssuer)
      : t.failure(u, c, `must be comma-separated iss=secret pairs, each secret at least 32 characters (${problems.join("; ")})`);
  },
  (m) => [...m].flatMap(([iss, secrets]) => secrets.map((secret) => `${iss}=${secret}`)).join(","),
);

const corsOrigins = new t.Type<"*" | string[], string, unknown>(
  "CorsOrigins",
  (u): u is "*" | string[] => u === "*" || Array.isArray(u),
  (u, c) => {
    if (u === "*") return t.success("*");
    const origins = typeof u === "string" ? u.split(",").map((o) => o.trim()).filter(Boolean) : [];
    const valid = (o: string) => {
      try {
        return new URL(o).origin === o;
      } catch {
        return false;
      }
    };
    return origins.length > 0 && origins.every(valid) ? t.success(origins) : t.failure(u, c, "must be * or a comma-separated list of origins like https://app.example.org");
  },
  (o) => (o === "*" ? o : o.join(",")),
);

const Env = t.partial({
  PORT: intFromString("Port", 0, 65535),
  HOST: nonEmpty("Host", 1),
  IMAGE_API_JWT_SECRET: nonEmpty("JwtSecret", 32),
  IMAGE_API_JWT_SECRETS: issuerSecrets,
  IMAGE_API_DATA_DIR: nonEmpty("DataDir", 1),
  IMAGE_API_PUBLIC_URL: httpUrl,
  IMAGE_API_URL_SIGNING_KEYS: keyList,
  IMAGE_API_URL_TTL_SECONDS: intFromString("Ttl", 60, 7 * 24 * 3600),
  IMAGE_API_MAX_UPLOAD_BYTES: intFromString("Bytes", 1, 1024 * 1024 * 1024),
  IMAGE_API_DATABASE_URL: postgresUrl,
  IMAGE_API_DB_POOL_SIZE: intFromString("PoolSize", 1, 1000),
  IMAGE_API_EMBEDDED_DB_FSYNC: boolFromString,
  IMAGE_API_STORAGE: t.keyof({ filesystem: null, s3: null, cloudinary: null }),
  IMAGE_API_S3_BUCKET: nonEmpty("Bucket", 3),
  IMAGE_API_S3_PREFIX: t.string,
  IMAGE_API_S3_ENDPOINT: httpUrl,
  IMAGE_API_S3_FORCE_PATH_STYLE: boolFromString,
  AWS_REGION: nonEmpty("Region", 1),
  CLOUDINARY_URL: cloudinaryUrl,
  LOG_LEVEL: t.keyof({ fatal: null, error: null, warn: null, info: null, debug: null, trace: null, silent: null }),
  IMAGE_API_METRICS_TOKEN: nonEmpty("MetricsToken", 16),
  IMAGE_API_SHUTDOWN_TIMEOUT_SECONDS: intFromString("Seconds", 0, 600),
  IMAGE_API_CORS_ORIGINS: corsOrigins,
});

export type Storage =
  | { readonly kind: "filesystem" }
  | { readonly kind: "s3"; readonly bucket: string; readonly prefix: string; readonly endpoint?: string; readonly forcePathStyle: boolean; readonly region?: string }
  | { readonly kind: "cloudinary"; readonly url: string };

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly publicUrl: string;
  /**
   * The default tenant's secret, for tokens without `iss`. Absent on the embedded default: generated
   * once into the data dir. Absent with a shared backend (only `jwtSecrets` given): such tokens are refused.
   */
  readonly jwtSecret?: string;
  /** Secrets by token issuer (`iss`, the tenant): every one verifies, the first signs. */
  readonly jwtSecrets?: ReadonlyMap<string, readonly string[]>;
  readonly urlSigningKeys?: readonly string[];
  readonly urlTtlSeconds: number;
  readonly maxUploadBytes: number;
  readonly databaseUrl?: string;
  readonly dbPoolSize: number;
  /** Embedded database only: commits are fsynced before they are acknowledged (survive power loss). */
  readonly embeddedDbFsync: boolean;
  readonly storage: Storage;
  readonly logLevel: string;
  readonly metricsToken?: string;
  readonly shutdownTimeoutSeconds: number;
  /** Absent: no CORS headers. */
  readonly corsOrigins?: "*" | readonly string[];
}

const SECRET_VARIABLES = new Set(["IMAGE_API_JWT_SECRET", "IMAGE_API_JWT_SECRETS", "IMAGE_API_URL_SIGNING_KEYS", "IMAGE_API_DATABASE_URL", "CLOUDINARY_URL", "IMAGE_API_METRICS_TOKEN"]);

export const DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

/** Validates the environment; every problem is reported at once, each naming its variable. */
export const loadConfig = (env: Record<string, string | undefined>): E.Either<string[], Config> => {
  // Each variable is decoded on its own, so one bad value does not hide the next one.
  const problems: string[] = [];
  const decoded: Record<string, unknown> = {};
  for (const [key, codec] of Object.entries(Env.props)) {
    const raw = env[key];
    if (raw === undefined || raw === "") continue;
    const result = (codec as t.Type<unknown, unknown, unknown>).decode(raw);
    if (E.isRight(result)) decoded[key] = result.right;
    // Secrets and URLs that may embed credentials are never echoed into logs.
    else problems.push(`${key}: ${result.left[0]?.message ?? "invalid value"}${SECRET_VARIABLES.has(key) ? "" : ` (got ${JSON.stringify(raw)})`}`);
  }
  const v = decoded as t.TypeOf<typeof Env>;
  // A variable that is set but invalid was reported above; "required" is only for one that is missing.
  const missing = (key: keyof typeof Env.props): boolean => env[key] === undefined || env[key] === "";
  const storageKind = v.IMAGE_API_STORAGE ?? "filesystem";
  let storage: Storage = { kind: "filesystem" };
  if (storageKind === "s3") {
    if (missing("IMAGE_API_S3_BUCKET")) problems.push("IMAGE_API_S3_BUCKET: required when IMAGE_API_STORAGE=s3");
    storage = {
      kind: "s3",
      bucket: v.IMAGE_API_S3_BUCKET ?? "",
      prefix: v.IMAGE_API_S3_PREFIX ?? "",
      forcePathStyle: v.IMAGE_API_S3_FORCE_PATH_STYLE ?? false,
      ...(v.IMAGE_API_S3_ENDPOINT ? { endpoint: v.IMAGE_API_S3_ENDPOINT } : {}),
      ...(v.AWS_REGION ? { region: v.AWS_REGION } : {}),
    };
  } else if (storageKind === "cloudinary") {
    if (missing("CLOUDINARY_URL")) problems.push("CLOUDINARY_URL: required when IMAGE_API_STORAGE=cloudinary");
    storage = { kind: "cloudinary", url: v.CLOUDINARY_URL ?? "" };
  }
  // Instances behind a load balancer must agree on secrets, so shared backends never generate their own.
  const shared = !missing("IMAGE_API_DATABASE_URL") || storageKind !== "filesystem";
  if (shared && missing("IMAGE_API_JWT_SECRET") && missing("IMAGE_API_JWT_SECRETS"))
    problems.push("IMAGE_API_JWT_SECRET: required with a shared database or storage (or IMAGE_API_JWT_SECRETS, secrets by token issuer)");
  // Tenants are isolated by their secrets: a tenant holding the default one could sign tokens without iss.
  for (const [iss, secrets] of v.IMAGE_API_JWT_SECRETS ?? [])
    if (v.IMAGE_API_JWT_SECRET !== undefined && secrets.includes(v.IMAGE_API_JWT_SECRET))
      problems.push(`IMAGE_API_JWT_SECRETS: issuer ${JSON.stringify(iss)} has the secret of IMAGE_API_JWT_SECRET, the default tenant's (each tenant needs its own)`);
  if (shared && missing("IMAGE_API_URL_SIGNING_KEYS") && storageKind !== "cloudinary")
    problems.push("IMAGE_API_URL_SIGNING_KEYS: required with a shared database or storage");
  if (problems.length > 0) return E.left(problems);
  const port = v.PORT ?? 3000;
  return E.right({
    port,
    // Embedded defaults are for one machine: reachable from it only unless HOST says otherwise (the container sets 0.0.0.0).
    host: v.HOST ?? "127.0.0.1",
    dataDir: v.IMAGE_API_DATA_DIR ?? "./data",
    publicUrl: v.IMAGE_API_PUBLIC_URL ?? `http://localhost:${port}`,
    ...(v.IMAGE_API_JWT_SECRET ? { jwtSecret: v.IMAGE_API_JWT_SECRET } : {}),
    ...(v.IMAGE_API_JWT_SECRETS ? { jwtSecrets: v.IMAGE_API_JWT_SECRETS } : {}),
    ...(v.IMAGE_API_URL_SIGNING_KEYS ? { urlSigningKeys: v.IMAGE_API_URL_SIGNING_KEYS } : {}),
    urlTtlSeconds: v.IMAGE_API_URL_TTL_SECONDS ?? 24 * 3600,
    maxUploadBytes: v.IMAGE_API_MAX_UPLOAD_BYTES ?? DEFAULT_MAX_UPLOAD_BYTES,
    ...(v.IMAGE_API_DATABASE_URL ? { databaseUrl: v.IMAGE_API_DATABASE_URL } : {}),
    dbPoolSize: v.IMAGE_API_DB_POOL_SIZE ?? 10,
    embeddedDbFsync: v.IMAGE_API_EMBEDDED_DB_FSYNC ?? true,
    storage,
    logLevel: v.LOG_LEVEL ?? "info",
    ...(v.IMAGE_API_METRICS_TOKEN ? { metricsToken: v.IMAGE_API_METRICS_TOKEN } : {}),
    shutdownTimeoutSeconds: v.IMAGE_API_SHUTDOWN_TIMEOUT_SECONDS ?? 10,
    ...(v.IMAGE_API_CORS_ORIGINS ? { corsOrigins: v.IMAGE_API_CORS_ORIGINS } : {}),
  });
};
