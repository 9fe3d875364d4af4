import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { S3Client } from "@aws-sdk/client-s3";
import { createS3Client, type S3ClientOptions } from "../src/s3/index.js";

export interface S3Connection {
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

export interface S3Target extends S3Connection {
  /**
   * s3rver implements neither ListMultipartUploads nor AbortMultipartUpload nor signature checks; the
   * run's container is s3rver too. "container" means a full S3 API, declared with IMAGE_API_TEST_S3_FULL_API=true.
   */
  readonly server: "container" | "s3rver";
  readonly client: (overrides?: Partial<S3ClientOptions>) => S3Client;
  readonly stop: () => Promise<void>;
}

const isConnection = (v: unknown): v is S3Connection =>
  typeof v === "object" &&
  v !== null &&
  ["endpoint", "bucket", "accessKeyId", "secretAccessKey", "region"].every((k) => typeof (v as Record<string, unknown>)[k] === "string");

/** The container the test run provides, if the testkit wires one in. */
const injectedConnection = async (): Promise<S3Connection | null> => {
  const module = fileURLToPath(new URL("../../testkit/src/containers/inject.ts", import.meta.url));
  if (!existsSync(module)) return null;
  try {
    const { testS3 } = (await import(module)) as { testS3?: () => unknown };
    const connection: unknown = typeof testS3 === "function" ? await testS3() : null;
    return isConnection(connection) ? connection : null;
  } catch {
    return null;
  }
};

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

const startS3rver = async (): Promise<S3Connection & { stop: () => Promise<void> }> => {
  // s3rver is a testkit dependency and ships no types.
  const S3rver = createRequire(new URL("../../testkit/package.json", import.meta.url))("s3rver") as S3rverConstructor;
  const directory = await mkdtemp(join(tmpdir(), "s3rver-"));
  const bucket = "test-bucket";
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    region: "us-east-1",
    stop: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
};

/** Where the S3 tests run: the injected container when there is one, else s3rver in this process. */
export const s3Target = async (): Promise<S3Target> => {
  const injected = await injectedConnection();
  const { stop, ...connection } = injected ? { ...injected, stop: async () => {} } : await startS3rver();
  const clients: S3Client[] = [];
  return {
    ...connection,
    server: injected && process.env["IMAGE_API_TEST_S3_FULL_API"] === "true" ? "container" : "s3rver",
    client: (overrides = {}) => {
      const client = createS3Client({
        region: connection.region,
        endpoint: connection.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey },
        ...overrides,
      });
      clients.push(client);
      return client;
    },
    stop: async () => {
      for (const c of clients) c.destroy();
      await stop();
    },
  };
};

let prefixes = 0;
/** A prefix no other test uses, so tests share one bucket without seeing each other's objects. */
export const freshPrefix = (): string => `t${process.pid}-${Date.now().toString(36)}-${++prefixes}/`;
