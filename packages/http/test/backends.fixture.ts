import { randomBytes } from "node:crypto";
import { Agent } from "node:http";
import { createRequire } from "node:module";
import { startLocalS3, testS3, type S3Connection } from "@image-api/testkit";

/** A storage backend for the service: the environment that selects it, and how to tear it down. */
export interface Backend {
  readonly env: Record<string, string>;
  readonly stop: () => Promise<void>;
}

/**
 * S3 storage on the run's S3 container, else on s3rver. Credentials reach the service the way they do
 * in production, through the AWS SDK's environment chain, so they are set on the process meanwhile.
 */
export const s3Backend = async (): Promise<Backend & { readonly connection: S3Connection }> => {
  const injected = testS3();
  const { stop, ...connection } = injected ? { ...injected, stop: async () => {} } : await startLocalS3();
  const saved = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID = connection.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = connection.secretAccessKey;
  return {
    connection,
    env: {
      IMAGE_API_STORAGE: "s3",
      IMAGE_API_S3_BUCKET: connection.bucket,
      // The bucket may be shared with other test files: this run's objects stay under their own prefix.
      IMAGE_API_S3_PREFIX: `backends-${process.pid}-${Date.now().toString(36)}/`,
      IMAGE_API_S3_ENDPOINT: connection.endpoint,
      IMAGE_API_S3_FORCE_PATH_STYLE: "true",
      AWS_REGION: connection.region,
    },
    stop: async () => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await stop();
    },
  };
};

/** The few calls of the Cloudinary SDK a browser-side upload needs (the SDK is an adapters dependency). */
interface CloudinarySdk {
  readonly v2: {
    readonly uploader: {
      upload_stream(options: object, callback: (error: unknown, result?: Record<string, unknown>) => void): NodeJS.WritableStream;
    };
  };
}
const sdk = (): CloudinarySdk => createRequire(new URL("../../adapters/package.json", import.meta.url))("cloudinary") as CloudinarySdk;

export interface CloudinaryAccountForTest {
  readonly cloudName: string;
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** Uploads straight to Cloudinary (here its stand-in) as a browser would, and returns Cloudinary's response. */
export const directUpload = (account: CloudinaryAccountForTest, uploadPrefix: string, bytes: Uint8Array, publicId = `browser-${randomBytes(6).toString("hex")}`) =>
  new Promise<Record<string, unknown>>((resolve, reject) => {
    const sink = sdk().v2.uploader.upload_stream(
      { cloud_name: account.cloudName, api_key: account.apiKey, api_secret: account.apiSecret, upload_prefix: uploadPrefix, agent: new Agent(), public_id: publicId, type: "authenticated" },
      (error, result) => (error || !result ? reject(error instanceof Error ? error : new Error(JSON.stringify(error))) : resolve(result)),
    );
    sink.end(Buffer.from(bytes));
  });

/**
 * A form body as a browser posts an upload response: `prefix[key]=value` for every scalar (as a
 * string), `prefix[key][]=…` for lists and `prefix[key][sub]=…` for objects, in the response's order.
 */
export const formFields = (prefix: string, value: unknown, into: [string, string][] = []): [string, string][] => {
  if (Array.isArray(value)) value.forEach((v) => formFields(`${prefix}[]`, v, into));
  else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) formFields(`${prefix}[${k}]`, v, into);
  else if (value !== undefined && value !== null) into.push([prefix, String(value)]);
  return into;
};

const sendsNothing = (v: unknown): boolean =>
  v === null || v === undefined || (typeof v === "object" && Object.values(v).every(sendsNothing));

/** What the form above parses back to on the server: the same shape, every scalar a string. */
export const asPosted = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.filter((v) => !sendsNothing(v)).map(asPosted)
    : typeof value === "object" && value !== null
      ? Object.fromEntries(Object.entries(value).filter(([, v]) => !sendsNothing(v)).map(([k, v]) => [k, asPosted(v)]))
      : String(value);
