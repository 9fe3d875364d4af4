import { connect, createServer, type Socket } from "node:net";

export interface CommitReplyDropper {
  /** The database URL through this proxy. */
  readonly url: string;
  /** The next `COMMIT` sent through the proxy reaches the server, but its connection hears nothing back. */
  readonly armNextCommit: () => void;
  /** How many commit replies were swallowed so far. */
  readonly dropped: () => number;
  readonly close: () => Promise<void>;
}

/** Postgres's startup packet (protocol 3.0) is the one frontend message without a type byte. */
const PROTOCOL_3 = 196_608;

/**
 * A loopback TCP proxy in front of Postgres that can lose one commit's answer: the transaction commits on
 * the server while the client, hearing nothing, must treat the outcome as unknown. This is what a network
 * partition or a frozen server does to a commit in flight, made deterministic.
 */
export const startCommitReplyDropper = async (databaseUrl: string): Promise<CommitReplyDropper> => {
  const target = new URL(databaseUrl);
  let armed = false;
  let dropped = 0;
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let swallowing = false;
    let started = false;
    let pending = Buffer.alloc(0);

    // Reads whole frontend messages only to spot a simple-protocol COMMIT; the bytes are forwarded as they come.
    const inspect = (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (!started) {
          if (pending.length < 8) return;
          const length = pending.readInt32BE(0);
          if (pending.length < length) return;
          if (pending.readInt32BE(4) === PROTOCOL_3) started = true;
          pending = pending.subarray(length);
          continue;
        }
        if (pending.length < 5) return;
        const length = pending.readInt32BE(1) + 1;
        if (pending.length < length) return;
        if (pending[0] === 0x51 && armed) {
          const sql = pending.subarray(5, length - 1).toString("utf8").trim().toUpperCase();
          if (sql === "COMMIT") {
            armed = false;
            swallowing = true;
            dropped++;
          }
        }
        pending = pending.subarray(length);
      }
    };

    client.on("data", (chunk: Buffer) => {
      inspect(chunk);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!swallowing) client.write(chunk);
    });
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", closeBoth).on("error", closeBoth);
    upstream.on("close", closeBoth).on("error", closeBoth);
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (typeof address === "object" && address) resolve(address.port);
      else reject(new Error("proxy has no port"));
    });
  });
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);

  return {
    url: url.toString(),
    armNextCommit: () => {
      armed = true;
    },
    dropped: () => dropped,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
