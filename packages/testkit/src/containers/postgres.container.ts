import "./loopback.js";
import pg from "pg";
import { POSTGRES_IMAGE_ENV, requireImage } from "./availability.js";
import { freeLoopbackPort } from "./free-port.js";

export interface StartedPostgres {
  /** `postgres://postgres@host:port/test`, trust auth, a fresh cluster per container. */
  readonly url: string;
  readonly stop: () => Promise<void>;
}

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

/** Waits until the server answers; a container that never does is stopped rather than left running. */
const readyOrStopped = async (url: string, stop: () => Promise<void>): Promise<void> => {
  try {
    await untilQueryable(url, Date.now() + 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
};

export async function startPostgres(image: string = requireImage(POSTGRES_IMAGE_ENV)): Promise<StartedPostgres> {
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
  await readyOrStopped(url, stop);
  return { url, stop };
}

export interface OutagePostgres extends StartedPostgres {
  /** Shuts the server down as an operator would (fast shutdown: open sessions are ended, new ones refused). */
  readonly shutdown: () => Promise<void>;
  /** Starts the shut-down server again at the same address with the data it had; resolves once it answers. */
  readonly restart: () => Promise<void>;
  /** Freezes the server: connections are accepted by the kernel but nothing answers on them. */
  readonly pause: () => Promise<void>;
  readonly unpause: () => Promise<void>;
}

/**
 * A Postgres of its own for staging outages. Docker gives a restarted container a new host port unless
 * the binding is fixed, and a tmpfs is emptied on stop, so this one has a fixed port and keeps its
 * cluster on the container's own disk (removed with the container).
 */
export async function startOutagePostgres(image: string = requireImage(POSTGRES_IMAGE_ENV)): Promise<OutagePostgres> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import("testcontainers");
  // Fixed, so the binding survives a container restart.
  const port = await freeLoopbackPort();
  const container = await new GenericContainer(image)
    .withExposedPorts({ container: 5432, host: port })
    .withEnvironment({ PGDATA: "/var/lib/postgresql/data" })
    .withWaitStrategy(Wait.forLogMessage("database system is ready to accept connections"))
    .withStartupTimeout(60_000)
    .start();
  // Docker publishes the fixed port on every host address; loopback keeps the traffic on this machine.
  const url = `postgres://postgres@127.0.0.1:${port}/test`;
  const handle = (await getContainerRuntimeClient()).container.getById(container.getId());
  let paused = false;
  const stop = async (): Promise<void> => {
    if (paused) await handle.unpause().catch(() => undefined);
    await container.stop();
  };
  await readyOrStopped(url, stop);
  return {
    url,
    stop,
    shutdown: async () => {
      // SIGINT is Postgres's fast shutdown: it ends the sessions and checkpoints, so nothing committed is lost.
      await handle.kill({ signal: "SIGINT" });
      await handle.wait();
    },
    restart: async () => {
      await handle.start();
      await untilQueryable(url, Date.now() + 30_000);
    },
    pause: async () => {
      await handle.pause();
      paused = true;
    },
    unpause: async () => {
      await handle.unpause();
      paused = false;
    },
  };
}
