import "./loopback.js";
import { requireImage, S3_IMAGE_ENV } from "./availability.js";
import { S3RVER_CREDENTIALS, type S3Connection } from "./s3-connection.js";

export interface StartedS3 extends S3Connection {
  readonly stop: () => Promise<void>;
}

const BUCKET = "test-bucket";

/** An s3rver container with one empty bucket, created at server start. Clients need path-style URLs. */
export async function startS3(image: string = requireImage(S3_IMAGE_ENV)): Promise<StartedS3> {
  // Loaded on demand: importing the testkit for its fixtures should not pay for it.
  const { GenericContainer, Wait } = await import("testcontainers");
  const container = await new GenericContainer(image)
    .withExposedPorts(4569)
    .withEnvironment({ S3_BUCKET: BUCKET })
    .withWaitStrategy(Wait.forLogMessage("S3rver listening on"))
    .withStartupTimeout(60_000)
    .start();
  return {
    endpoint: `http://${container.getHost()}:${container.getMappedPort(4569)}`,
    bucket: BUCKET,
    region: "us-east-1",
    ...S3RVER_CREDENTIALS,
    stop: async () => {
      await container.stop();
    },
  };
}
