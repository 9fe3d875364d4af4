import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { Readable } from "node:stream";
import { v2 as cloudinary } from "cloudinary";
import type { ResourceType } from "./cloudinary.delivery-url.js";
import type { SignatureAlgorithm } from "./cloudinary.signature.js";

export interface CloudinaryAccount {
  readonly cloudName: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** API host; defaults to `https://api.cloudinary.com`. */
  readonly uploadPrefix?: string;
  /** Must match the account's setting; Cloudinary defaults to SHA-1. */
  readonly signatureAlgorithm?: SignatureAlgorithm;
  /** Idle time before a request to Cloudinary is given up, in ms. */
  readonly timeoutMs?: number;
}

export const CLOUDINARY_API = "https://api.cloudinary.com";

/** A failed SDK call, reduced to what is safe to log (the SDK's own errors can carry the credentials). */
export class CloudinaryCallError extends Error {
  constructor(
    message: string,
    readonly httpCode: number | null,
  ) {
    super(message);
    this.name = "CloudinaryCallError";
  }
}

const toCallError = (e: unknown): CloudinaryCallError => {
  const inner: unknown = typeof e === "object" && e !== null && "error" in e ? (e as { error: unknown }).error : e;
  if (inner instanceof Error) return new CloudinaryCallError(inner.message, null);
  const shape = typeof inner === "object" && inner !== null ? (inner as { message?: unknown; http_code?: unknown }) : {};
  const message = typeof shape.message === "string" ? shape.message : String(inner);
  return new CloudinaryCallError(message, typeof shape.http_code === "number" ? shape.http_code : null);
};

export interface UploadResult {
  readonly public_id: string;
  readonly version: number;
  readonly bytes: number;
}

export interface UploadRequest {
  readonly publicId: string;
  readonly resourceType: ResourceType;
  readonly type: string;
  readonly tags?: readonly string[];
}

/**
 * The few SDK calls the blob store makes, with this account's settings passed on every call so the
 * process-wide `cloudinary.config()` other code may set is neither read nor changed.
 */
export const cloudinarySdk = (account: CloudinaryAccount) => {
  const uploadPrefix = account.uploadPrefix ?? CLOUDINARY_API;
  // The SDK picks `https` once at load time; an agent of the right kind lets one process also talk
  // plain HTTP (a local stand-in) without touching the global configuration.
  const plainHttp = uploadPrefix.startsWith("http:");
  const newAgent = () => (plainHttp ? new HttpAgent({ keepAlive: false }) : new HttpsAgent({ keepAlive: false }));
  const sharedAgent = plainHttp ? new HttpAgent({ keepAlive: true }) : new HttpsAgent({ keepAlive: true });
  const base = {
    cloud_name: account.cloudName,
    api_key: account.apiKey,
    api_secret: account.apiSecret,
    upload_prefix: uploadPrefix,
    signature_algorithm: account.signatureAlgorithm ?? "sha1",
    timeout: account.timeoutMs ?? 60_000,
  };

  /**
   * Streams `source` as the upload's file part. If the source fails, the request's socket is torn
   * down before the multipart body is closed, so Cloudinary never stores a partial asset.
   */
  const upload = (source: AsyncIterable<Uint8Array>, request: UploadRequest): Promise<UploadResult> =>
    new Promise<UploadResult>((resolve, reject) => {
      const agent = newAgent();
      const input = Readable.from(source, { objectMode: false });
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        // Also ends a request still being written, and stops reading the caller's stream.
        agent.destroy();
        input.destroy();
        f();
      };
      const sink = cloudinary.uploader.upload_stream(
        {
          ...base,
          agent,
          public_id: request.publicId,
          type: request.type,
          resource_type: request.resourceType,
          overwrite: true,
          invalidate: true,
          ...(request.tags && request.tags.length > 0 ? { tags: [...request.tags] } : {}),
        },
        (error, result) =>
          settle(() =>
            error || !result
              ? reject(toCallError(error ?? new Error("empty upload response")))
              : resolve({ public_id: result.public_id, version: result.version, bytes: result.bytes }),
          ),
      );
      input.on("error", (e) => settle(() => reject(e)));
      input.pipe(sink);
    });

  const destroy = async (publicId: string, resourceType: ResourceType, type: string): Promise<"ok" | "not found"> => {
    const options = { ...base, agent: sharedAgent, resource_type: resourceType, type, invalidate: true };
    const result: unknown = await cloudinary.uploader.destroy(publicId, options as never).catch((e: unknown) => {
      throw toCallError(e);
    });
    const outcome = typeof result === "object" && result !== null ? (result as { result?: unknown }).result : undefined;
    if (outcome === "ok" || outcome === "not found") return outcome;
    throw new CloudinaryCallError(`unexpected destroy result ${JSON.stringify(result)}`, null);
  };

  /** Admin API; rate-limited per hour on Cloudinary, so only used where no upload-API call can do the job. */
  return { upload, destroy };
};

export type CloudinarySdk = ReturnType<typeof cloudinarySdk>;
