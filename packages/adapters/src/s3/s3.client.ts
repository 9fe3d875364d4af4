import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3ClientOptions {
  /** Omitted: the SDK's chain (AWS_REGION, shared config files, instance metadata). */
  readonly region?: string;
  /** An S3-compatible server (MinIO, R2, …); omitted for AWS itself. */
  readonly endpoint?: string;
  /** Path-style URLs (`host/bucket/key`), which most S3-compatible servers need. */
  readonly forcePathStyle?: boolean;
  /** Omitted: the SDK's credential chain (environment, profiles, SSO, container or instance roles). */
  readonly credentials?: S3Credentials;
  /** Attempts per request, retries included; the SDK default is 3. */
  readonly maxAttempts?: number;
  readonly connectionTimeoutMs?: number;
  /** Inactivity timeout on an open request's socket. */
  readonly requestTimeoutMs?: number;
  /**
   * "when_required" stops the SDK from adding CRC checksums to every upload, for S3-compatible
   * servers that reject them; AWS itself accepts the default.
   */
  readonly checksums?: "when_supported" | "when_required";
}

/** Builds the client from configuration values; reading them from the environment is the caller's job. */
export const createS3Client = (options: S3ClientOptions = {}): S3Client => {
  const config: S3ClientConfig = {};
  if (options.region !== undefined) config.region = options.region;
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  if (options.forcePathStyle !== undefined) config.forcePathStyle = options.forcePathStyle;
  if (options.credentials !== undefined) config.credentials = { ...options.credentials };
  if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
  if (options.connectionTimeoutMs !== undefined || options.requestTimeoutMs !== undefined) {
    config.requestHandler = {
      ...(options.connectionTimeoutMs === undefined ? {} : { connectionTimeout: options.connectionTimeoutMs }),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeout: options.requestTimeoutMs }),
    };
  }
  if (options.checksums !== undefined) {
    const mode = options.checksums === "when_required" ? "WHEN_REQUIRED" : "WHEN_SUPPORTED";
    config.requestChecksumCalculation = mode;
    config.responseChecksumValidation = mode;
  }
  return new S3Client(config);
};
