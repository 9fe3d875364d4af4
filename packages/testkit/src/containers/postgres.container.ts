import pg from "pg";
import { POSTGRES_IMAGE_ENV } from "./availability.js";

export interface StartedPostgres {
  /** `postgres://postgres@host:port/test`, trust auth, a fresh cluster per container. */
  readonly url: string;
  readonly stop: () => Promise<void>;
}

const requireImage = (): string => {
  const image = process.env[POSTGRES_IMAGE_ENV];
  if (!image) throw new Error(`${POSTGRES_IMAGE_ENV} is not set; build it with scripts/ci/build-images.sh`);
  return image;
};

// The ready log line comes from inside the container; one real query proves the
// mapped port reaches it too.
const untilQueryable = async (url: string, deadline: number): Promise<void> => {
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query("select 1");
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
};

export async function startPostgres(image: string = requireImage()): Promise<StartedPostgres> {
  // Loaded on demand: importing the testkit for its fixtures should not pay for it.
  const { GenericContainer, Wait } = await import("testcontainers");
  const container = await new GenericContainer(image)
    .withExposedPorts(5432)
    // Data lives in memory: throwaway clusters need no disk durability.
    .withTmpFs({ "/tmp": "rw,size=1g" })
    .withWaitStrategy(Wait.forLogMessage("database system is ready to accept connections"))
    .withStartupTimeout(60_000)
    .start();
  const url = `postgres://postgres@${container.getHost()}:${container.getMappedPort(5432)}/test`;
  const stop = async (): Promise<void> => {
    await container.stop();
  };
  try {
    await untilQueryable(url, Date.now() + 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}
