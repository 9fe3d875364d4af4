import type { S3Client } from "@aws-sdk/client-s3";
import { startLocalS3, testS3, type S3Connection } from "@image-api/testkit";
import { createS3Client, type S3ClientOptions } from "../src/s3/index.js";

export interface S3Target extends S3Connection {
  /**
   * s3rver implements neither ListMultipartUploads nor AbortMultipartUpload nor signature checks; the
   * run's container is s3rver too. "container" means a full S3 API, declared with IMAGE_API_TEST_S3_FULL_API=true.
   */
  readonly server: "container" | "s3rver";
  readonly client: (overrides?: Partial<S3ClientOptions>) => S3Client;
  readonly stop: () => Promise<void>;
}

/** Where the S3 tests run: the injected container when there is one, else s3rver in this process. */
export const s3Target = async (): Promise<S3Target> => {
  const injected = testS3();
  const { stop, ...connection } = injected ? { ...injected, stop: async () => {} } : await startLocalS3();
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
