import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { parseCloudinaryUrl } from "@image-api/adapters";

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

const Env = t.partial({
  PORT: intFromString("Port", 0, 65535),
  HOST: nonEmpty("Host", 1),
  IMAGE_API_JWT_SECRET: nonEmpty("JwtSecret", 32),
  IMAGE_API_DATA_DIR: nonEmpty("DataDir", 1),
  IMAGE_API_PUBLIC_URL: httpUrl,
  IMAGE_API_URL_SIGNING_KEYS: keyList,
  IMAGE_API_URL_TTL_SECONDS: intFromString("Ttl", 60, 7 * 24 * 3600),
  IMAGE_API_MAX_UPLOAD_BYTES: intFromString("Bytes", 1, 1024 * 1024 * 1024),
  IMAGE_API_DATABASE_URL: postgresUrl,
  IMAGE_API_DB_POOL_SIZE: intFromString("PoolSize", 1, 1000),
  IMAGE_API_STORAGE: t.keyof({ filesystem: null, s3: null, cloudinary: null }),
  IMAGE_API_S3_BUCKET: nonEmpty("Bucket", 3),
  IMAGE_API_S3_PREFIX: t.string,
  IMAGE_API_S3_ENDPOINT: httpUrl,
  IMAGE_API_S3_FORCE_PATH_STYLE: boolFromString,
  AWS_REGION: nonEmpty("Region", 1),
  CLOUDINARY_URL: cloudinaryUrl,
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
  /** Absent on the embedded default: generated once into the data dir. */
  readonly jwtSecret?: string;
  readonly urlSigningKeys?: readonly string[];
  readonly urlTtlSeconds: number;
  readonly maxUploadBytes: number;
  readonly databaseUrl?: string;
  readonly dbPoolSize: number;
  readonly storage: Storage;
}

const SECRET_VARIABLES = new Set(["IMAGE_API_JWT_SECRET", "IMAGE_API_URL_SIGNING_KEYS", "IMAGE_API_DATABASE_URL", "CLOUDINARY_URL"]);

export const DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

/** Validates the environment; every problem is reported at once, each naming its variable. */
export const loadConfig = (env: Record<string, string | undefined>): E.Either<string[], Config> => {
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => k in Env.props && v !== undefined && v !== ""));
  const decoded = Env.decode(present);
  if (E.isLeft(decoded))
    return E.left(
      decoded.left.map((err) => {
        const key = err.context.find((c) => c.key in Env.props)?.key ?? "environment";
        // Secrets and URLs that may embed credentials are never echoed into logs.
        const shown = SECRET_VARIABLES.has(key) ? "" : ` (got ${JSON.stringify(err.value)})`;
        return `${key}: ${err.message ?? "invalid value"}${shown}`;
      }),
    );
  const v = decoded.right;
  const problems: string[] = [];
  const storageKind = v.IMAGE_API_STORAGE ?? "filesystem";
  let storage: Storage = { kind: "filesystem" };
  if (storageKind === "s3") {
    if (!v.IMAGE_API_S3_BUCKET) problems.push("IMAGE_API_S3_BUCKET: required when IMAGE_API_STORAGE=s3");
    storage = {
      kind: "s3",
      bucket: v.IMAGE_API_S3_BUCKET ?? "",
      prefix: v.IMAGE_API_S3_PREFIX ?? "",
      forcePathStyle: v.IMAGE_API_S3_FORCE_PATH_STYLE ?? false,
      ...(v.IMAGE_API_S3_ENDPOINT ? { endpoint: v.IMAGE_API_S3_ENDPOINT } : {}),
      ...(v.AWS_REGION ? { region: v.AWS_REGION } : {}),
    };
  } else if (storageKind === "cloudinary") {
    if (!v.CLOUDINARY_URL) problems.push("CLOUDINARY_URL: required when IMAGE_API_STORAGE=cloudinary");
    storage = { kind: "cloudinary", url: v.CLOUDINARY_URL ?? "" };
  }
  // Instances behind a load balancer must agree on secrets, so shared backends never generate their own.
  const shared = v.IMAGE_API_DATABASE_URL !== undefined || storageKind !== "filesystem";
  if (shared && !v.IMAGE_API_JWT_SECRET) problems.push("IMAGE_API_JWT_SECRET: required with a shared database or storage");
  if (shared && !v.IMAGE_API_URL_SIGNING_KEYS && storageKind !== "cloudinary")
    problems.push("IMAGE_API_URL_SIGNING_KEYS: required with a shared database or storage");
  if (problems.length > 0) return E.left(problems);
  const port = v.PORT ?? 3000;
  return E.right({
    port,
    host: v.HOST ?? "0.0.0.0",
    dataDir: v.IMAGE_API_DATA_DIR ?? "./data",
    publicUrl: v.IMAGE_API_PUBLIC_URL ?? `http://localhost:${port}`,
    ...(v.IMAGE_API_JWT_SECRET ? { jwtSecret: v.IMAGE_API_JWT_SECRET } : {}),
    ...(v.IMAGE_API_URL_SIGNING_KEYS ? { urlSigningKeys: v.IMAGE_API_URL_SIGNING_KEYS } : {}),
    urlTtlSeconds: v.IMAGE_API_URL_TTL_SECONDS ?? 24 * 3600,
    maxUploadBytes: v.IMAGE_API_MAX_UPLOAD_BYTES ?? DEFAULT_MAX_UPLOAD_BYTES,
    ...(v.IMAGE_API_DATABASE_URL ? { databaseUrl: v.IMAGE_API_DATABASE_URL } : {}),
    dbPoolSize: v.IMAGE_API_DB_POOL_SIZE ?? 10,
    storage,
  });
};
