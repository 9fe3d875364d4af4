import { execFile } from "node:child_process";
import { fdatasyncSync, fsyncSync } from "node:fs";
import { lstat, mkdir, open, readdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
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
interface FsNode {
  readonly mount: { readonly type: unknown };
  /** The directory holding it (a mount's root is its own parent). */
  readonly parent: FsNode;
}
interface NodefsStream {
  /** The Node file descriptor behind an Emscripten stream on a NODEFS mount. */
  readonly nfd?: number;
  readonly node: FsNode;
}
/** A table of NODEFS operations (its node_ops or stream_ops), looked up by name at each call. */
type Operations = Record<string, unknown>;
interface EmscriptenRuntime {
  readonly FS: { getStream(fd: number): NodefsStream | null };
  readonly NODEFS: {
    readonly stream_ops: { fsync?: (stream: NodefsStream) => number };
    readonly node_ops: Operations;
    /** Runs a Node fs call, turning its error into an Emscripten ErrnoError (`errno` set). */
    tryFSOperation<T>(operation: () => T): T;
  };
}

/**
 * What each NODEFS operation that changes something on disk changes, from its arguments: the file
 * (its data, size or mode) or the directory (its entries). Emscripten keeps one node object per path
 * for as long as the path exists, and every stream on a file shares its node.
 */
const STREAM_CHANGES: Readonly<Record<string, (stream: NodefsStream) => readonly FsNode[]>> = {
  write: (stream) => [stream.node],
  // ftruncate, and fallocate (Emscripten grows the file with it), fchmod, futimes
  setattr: (stream) => [stream.node],
  allocate: (stream) => [stream.node],
  // A shared mapping written back (munmap, msync).
  msync: (stream) => [stream.node],
};
const NODE_CHANGES: Readonly<Record<string, (node: FsNode, second: unknown) => readonly FsNode[]>> = {
  // truncate (and O_TRUNC), chmod, utime
  setattr: (node) => [node],
  // In each, the first argument is the directory whose entries change.
  mknod: (dir) => [dir],
  symlink: (dir) => [dir],
  link: (dir) => [dir],
  unlink: (dir) => [dir],
  rmdir: (dir) => [dir],
  // The node moved, the directory it leaves and the one it enters.
  rename: (node, dir) => [node, node.parent, dir as FsNode],
};
/** Operations that change nothing on disk. A table with one in neither list is one this code does not know. */
const STREAM_READS = new Set(["getattr", "open", "close", "dup", "read", "llseek", "mmap", "fsync"]);
const NODE_READS = new Set(["getattr", "lookup", "readdir", "readlink", "statfs"]);

type EmscriptenOptions = Parameters<NodeFS["init"]>[1];
/** Emscripten's hook that instantiates the module: PGlite supplies it, and it sees the imports first. */
type InstantiateWasm = (imports: Record<string, unknown>, done: (...instance: never[]) => void) => unknown;

// WASI errno of a bad file descriptor.
const EBADF = 8;

// pg_control begins with system_identifier (8 bytes), pg_control_version and catalog_version_no (4 each),
// then the cluster's state (a DBState: an int, in the byte order of the server, little-endian in WASM).
const PG_CONTROL_STATE_OFFSET = 16;
const DB_SHUTDOWNED = 1;
const DB_SHUTDOWNED_IN_RECOVERY = 2;

/**
 * Whether Postgres will start by syncing the whole data dir: what it decides from pg_control, whose state
 * is "shut down" only after a clean stop (a kill leaves "in production", and postmaster.pid behind). False
 * where there is no pg_control to read: a fresh data dir, which PGlite fills and syncTree syncs whole.
 */
const startsWithCrashRecovery = async (root: string): Promise<boolean> => {
  try {
    const handle = await open(join(root, "global", "pg_control"), "r");
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, PG_CONTROL_STATE_OFFSET);
      if (bytesRead < 4) return false;
      const state = buffer.readInt32LE(0);
      return state !== DB_SHUTDOWNED && state !== DB_SHUTDOWNED_IN_RECOVERY;
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
};

/**
 * Flushes to disk every file system the data dir's files live on, once, with Linux's syncfs(2) through
 * coreutils' `sync -f`: its own, and wherever pg_wal or a tablespace links to, as Postgres's
 * recovery_init_sync_method=syncfs does (and like it, on Linux before 5.8 a write-back error may show in
 * the kernel's log only). Resolves false, having synced nothing for sure, where that cannot be done (not
 * Linux, no such `sync`, or it reported an error); the caller then relies on per-file syncs.
 */
const syncFileSystems = async (root: string): Promise<boolean> => {
  if (process.platform !== "linux") return false;
  try {
    const targets = [root];
    if ((await lstat(join(root, "pg_wal"))).isSymbolicLink()) targets.push(join(root, "pg_wal"));
    for (const name of await readdir(join(root, "pg_tblspc"))) targets.push(join(root, "pg_tblspc", name));
    await promisify(execFile)("sync", ["-f", ...targets]);
    return true;
  } catch {
    return false;
  }
};

/**
 * NODEFS as PGlite mounts it, with the two sync calls Emscripten drops made real. Postgres's fsync()
 * goes through WASI fd_sync to the stream's `fsync`, which NODEFS does not define (a no-op);
 * fdatasync() goes to a syscall stub that only checks the descriptor. Both now sync the Node file.
 *
 * A start after a crash begins with Postgres opening and syncing every file and directory of the data
 * dir, one at a time, before it replays the WAL. Before such a start the file systems under the data dir
 * are synced whole instead (syncFileSystems), and until the open is through (`opened`) a sync is left
 * out for any file or directory that no write, truncation, creation, removal or rename has changed since:
 * that sync would find nothing left to flush. Anything changed meanwhile, by the replay or the checkpoint
 * that ends it, is synced as always.
 */
class DurableNodeFS extends NodeFS {
  /** Set once both hooks are in place, so a PGlite whose internals moved fails to open instead of silently syncing nothing. */
  hooked = { fsync: false, fdatasync: false };
  /** Whether syncs of unchanged nodes are left out: only between a sync of the whole file systems and the end of the open. */
  #skipUnchanged = false;
  /** The nodes changed since the file systems were synced, recorded while #skipUnchanged is set. */
  readonly #changed = new WeakSet<FsNode>();

  /** Whether a sync of the node can be left out: nothing changed it since the file systems were synced whole. */
  #unchanged(node: FsNode): boolean {
    return this.#skipUnchanged && !this.#changed.has(node);
  }

  /** The open is through (recovery included): from now on every sync reaches the disk. */
  opened(): void {
    this.#skipUnchanged = false;
  }

  /**
   * Wraps each NODEFS operation that changes a file or a directory so that it records what it changes.
   * False, with nothing wrapped, when either table has an operation this code knows nothing of: what such
   * an operation changes would go unrecorded.
   */
  #track(nodefs: EmscriptenRuntime["NODEFS"]): boolean {
    const streamOps = nodefs.stream_ops as Operations;
    const nodeOps = nodefs.node_ops;
    const known = (ops: Operations, changes: object, reads: ReadonlySet<string>): boolean =>
      Object.keys(ops).every((name) => typeof ops[name] !== "function" || reads.has(name) || name in changes);
    if (typeof streamOps["write"] !== "function" || typeof nodeOps?.["mknod"] !== "function") return false;
    if (!known(streamOps, STREAM_CHANGES, STREAM_READS) || !known(nodeOps, NODE_CHANGES, NODE_READS)) return false;
    const wrap = (ops: Operations, changes: Readonly<Record<string, (...args: never[]) => readonly FsNode[]>>): void => {
      for (const [name, changed] of Object.entries(changes)) {
        const operation = ops[name];
        if (typeof operation !== "function") continue;
        ops[name] = (...args: unknown[]): unknown => {
          // Recorded before the call: one that fails halfway may still have changed something.
          if (this.#skipUnchanged) for (const node of changed(...(args as never[]))) this.#changed.add(node);
          const result: unknown = operation.apply(ops, args);
          // mknod answers the node it made, which is new.
          if (this.#skipUnchanged && typeof result === "object" && result !== null) this.#changed.add(result as FsNode);
          return result;
        };
      }
    };
    wrap(streamOps, STREAM_CHANGES);
    wrap(nodeOps, NODE_CHANGES);
    return true;
  }

  override async init(pg: PGlite, opts: EmscriptenOptions): Promise<{ emscriptenOpts: EmscriptenOptions }> {
    // Before the runtime starts: whatever it writes comes after, and is recorded from its first write on.
    const syncedWhole = (await startsWithCrashRecovery(this.rootDir)) && (await syncFileSystems(this.rootDir));
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
      if (this.#unchanged(runtime!.FS.getStream(fd)!.node)) return 0;
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
              if (stream.nfd !== undefined && !this.#unchanged(stream.node)) nodefs.tryFSOperation(() => fsyncSync(stream.nfd!));
              return 0;
            };
            this.hooked.fsync = true;
            // Only with every change recorded may anything be left out.
            this.#skipUnchanged = syncedWhole && this.#track(nodefs);
          },
        ],
      } as EmscriptenOptions,
    };
  }
}

/**
 * PGlite's own start parameters with a smaller buffer pool: it reads its files through the OS, whose
 * page cache holds them already, and every buffer touched stays in the WebAssembly memory, which never
 * shrinks (PGlite's 160 MB took the process from ~480 to ~570 MB under the duplicate load, for the
 * same throughput).
 */
const startParams = (): string[] => [...PGlite.defaultStartParams, "-c", "shared_buffers=32MB"];

/** Those, but with fsync on (PGlite passes -F) and the WAL synced by fdatasync. */
const durableStartParams = (): string[] => [
  ...startParams().filter((param) => param !== "-F"),
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
  fs.opened();
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
      ? await PGlite.create({ startParams: startParams() })
      : options.durable === false
        ? await PGlite.create({ dataDir: options.dataDir, startParams: startParams() })
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
