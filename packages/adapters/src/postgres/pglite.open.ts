import { fdatasyncSync, fsyncSync } from "node:fs";
import { mkdir, open, readdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { PGlite, type Results } from "@electric-sql/pglite";
import { NodeFS } from "@electric-sql/pglite/nodefs";
import type { SqlResult } from "./sql-client.js";

/** How PGlite is opened, on the main thread or in the worker alike (see PgliteClientOptions for each field). */
export interface PgliteOpenOptions {
  readonly dataDir?: string;
  readonly checkpointIntervalMs?: number;
  readonly durable?: boolean;
}

/** The parts of PGlite's Emscripten runtime the durable file layer reaches into. */
interface NodefsStream {
  /** The Node file descriptor behind an Emscripten stream on a NODEFS mount. */
  readonly nfd?: number;
  readonly node: { readonly mount: { readonly type: unknown } };
}
interface EmscriptenRuntime {
  readonly FS: { getStream(fd: number): NodefsStream | null };
  readonly NODEFS: {
    readonly stream_ops: { fsync?: (stream: NodefsStream) => number };
    /** Runs a Node fs call, turning its error into an Emscripten ErrnoError (`errno` set). */
    tryFSOperation<T>(operation: () => T): T;
  };
}
type EmscriptenOptions = Parameters<NodeFS["init"]>[1];
/** Emscripten's hook that instantiates the module: PGlite supplies it, and it sees the imports first. */
type InstantiateWasm = (imports: Record<string, unknown>, done: (...instance: never[]) => void) => unknown;

// WASI errno of a bad file descriptor.
const EBADF = 8;

/**
 * NODEFS as PGlite mounts it, with the two sync calls Emscripten drops made real. Postgres's fsync()
 * goes through WASI fd_sync to the stream's `fsync`, which NODEFS does not define (a no-op);
 * fdatasync() goes to a syscall stub that only checks the descriptor. Both now sync the Node file.
 */
class DurableNodeFS extends NodeFS {
  /** Set once both hooks are in place, so a PGlite whose internals moved fails to open instead of silently syncing nothing. */
  hooked = { fsync: false, fdatasync: false };

  override async init(pg: PGlite, opts: EmscriptenOptions): Promise<{ emscriptenOpts: EmscriptenOptions }> {
    const { emscriptenOpts } = await super.init(pg, opts);
    let runtime: EmscriptenRuntime | undefined;
    const nodeFd = (fd: number): number | undefined => {
      const stream = runtime?.FS.getStream(fd);
      return stream && stream.node.mount.type === runtime?.NODEFS ? stream.nfd : undefined;
    };
    const fdatasync = (fd: number): number => {
      if (runtime?.FS.getStream(fd) == null) return -EBADF;
      const nfd = nodeFd(fd);
      if (nfd === undefined) return 0; // not a file on disk (Emscripten's in-memory /tmp and the like)
      try {
        runtime!.NODEFS.tryFSOperation(() => fdatasyncSync(nfd));
        return 0;
      } catch (e) {
        // Postgres treats a failed sync as data loss (data_sync_retry=off: it stops rather than carry on).
        if (typeof (e as { errno?: unknown }).errno === "number") return -(e as { errno: number }).errno;
        throw e;
      }
    };
    const instantiate = emscriptenOpts.instantiateWasm as InstantiateWasm | undefined;
    const preRun = emscriptenOpts.preRun ?? [];
    return {
      emscriptenOpts: {
        ...emscriptenOpts,
        ...(instantiate
          ? {
              instantiateWasm: ((imports, done) => {
                const env = imports["env"] as Record<string, unknown> | undefined;
                if (env && typeof env["__syscall_fdatasync"] === "function") {
                  env["__syscall_fdatasync"] = fdatasync;
                  this.hooked.fdatasync = true;
                }
                return instantiate(imports, done);
              }) satisfies InstantiateWasm,
            }
          : {}),
        preRun: [
          ...(Array.isArray(preRun) ? preRun : [preRun]),
          (mod: unknown) => {
            runtime = mod as EmscriptenRuntime;
            const nodefs = runtime.NODEFS;
            if (nodefs?.stream_ops === undefined || typeof nodefs.tryFSOperation !== "function") return;
            nodefs.stream_ops.fsync = (stream) => {
              if (stream.nfd !== undefined) nodefs.tryFSOperation(() => fsyncSync(stream.nfd!));
              return 0;
            };
            this.hooked.fsync = true;
          },
        ],
      } as EmscriptenOptions,
    };
  }
}

/** PGlite's own start parameters, but with fsync on (it passes -F) and the WAL synced by fdatasync. */
const durableStartParams = (): string[] => [
  ...PGlite.defaultStartParams.filter((param) => param !== "-F"),
  "-c",
  "fsync=on",
  "-c",
  "wal_sync_method=fdatasync",
  "-c",
  "full_page_writes=on",
];

/**
 * PGlite builds a new database in memory and copies it into the data dir with plain writes, so nothing
 * of it has reached the disk yet: sync every file and directory of it (and its entry in the parent).
 */
const syncTree = async (root: string): Promise<void> => {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const paths = [...entries.filter((e) => e.isFile() || e.isDirectory()).map((e) => join(e.parentPath, e.name)), root, dirname(root)];
  let next = 0;
  // A few at a time: each sync waits on the disk, and libuv runs four of them at once.
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const handle = await open(paths[next++]!, "r");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
};

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

const openDurable = async (dataDir: string): Promise<PGlite> => {
  const root = resolve(dataDir);
  const fresh = !(await exists(join(root, "PG_VERSION")));
  const fs = new DurableNodeFS(root);
  const db = await PGlite.create({ fs, startParams: durableStartParams() });
  try {
    if (!fs.hooked.fsync || !fs.hooked.fdatasync)
      throw new Error("this PGlite version's file layer cannot be made durable (NODEFS sync hooks not found); open it with durable: false");
    const settings = await db.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'wal_sync_method', 'synchronous_commit')",
    );
    const setting = new Map(settings.rows.map((r) => [r.name, r.setting]));
    if (setting.get("fsync") !== "on" || setting.get("wal_sync_method") !== "fdatasync" || setting.get("synchronous_commit") === "off")
      throw new Error(`embedded database is not running durably (${settings.rows.map((r) => `${r.name}=${r.setting}`).join(", ")})`);
    if (fresh) await syncTree(root);
    return db;
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
};

/** PGlite's result as the SqlClient reports it (an UPDATE's count is in affectedRows, a SELECT's in rows). */
export const toSqlResult = <R>(result: Results<R>): SqlResult<R> => ({
  rows: result.rows,
  rowCount: Math.max(result.affectedRows ?? 0, result.rows.length),
});

export interface OpenedPglite {
  readonly db: PGlite;
  /** Stops the checkpoints and closes the database (a clean close checkpoints); safe to call twice. */
  readonly close: () => Promise<void>;
}

/** Opens the database as configured, with its periodic checkpoint. Whatever fails rejects, leaving nothing open. */
export const openPglite = async (options: PgliteOpenOptions): Promise<OpenedPglite> => {
  // PGlite creates its own directory but not the ones above it; whatever the blob backend, a fresh data dir must just work.
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  const db =
    options.dataDir === undefined
      ? await PGlite.create({})
      : options.durable === false
        ? await PGlite.create({ dataDir: options.dataDir })
        : await openDurable(options.dataDir);
  // A failed checkpoint is retried at the next tick; it never holds the process open.
  const checkpoints = options.checkpointIntervalMs
    ? setInterval(() => void (db.closed ? undefined : db.exec("CHECKPOINT").catch(() => undefined)), options.checkpointIntervalMs).unref()
    : undefined;
  return {
    db,
    close: async () => {
      clearInterval(checkpoints);
      if (!db.closed) await db.close();
    },
  };
};
