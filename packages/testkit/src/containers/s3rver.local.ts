import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StartedS3 } from "./s3.container.js";
import { S3RVER_CREDENTIALS } from "./s3-connection.js";

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

const BUCKET = "test-bucket";

/**
 * s3rver in this process, on a free loopback port, with one empty bucket in a temporary directory that
 * `stop` removes: for runs that were given no S3 server. Clients need path-style URLs.
 */
export async function startLocalS3(): Promise<StartedS3> {
  // s3rver ships no types.
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverConstructor;
  const directory = await mkdtemp(join(tmpdir(), "s3rver-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, configureBuckets: [{ name: BUCKET }] });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket: BUCKET,
    region: "us-east-1",
    ...S3RVER_CREDENTIALS,
    stop: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
