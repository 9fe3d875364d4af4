import { randomBytes } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * Each file starts with one header line holding the content type, so a single rename publishes the
 * bytes and their type together: no sidecar can disagree with the bytes it describes.
 */
const MAGIC = "blob1 ";
const MAX_HEADER = 512;

/** Printable ASCII keeps the header one line of a known byte length. */
const CONTENT_TYPE = /^[\x20-\x7e]{1,255}$/;

export const headerFor = (contentType: string): Buffer => {
  if (!CONTENT_TYPE.test(contentType)) throw new Error(`invalid content type ${JSON.stringify(contentType)}`);
  return Buffer.from(`${MAGIC}${contentType}\n`, "latin1");
};

export interface OpenedBlob {
  readonly handle: FileHandle;
  readonly contentType: string;
  readonly start: number;
  readonly bytes: number;
}

/** Opens a published file; the open handle pins this version even if a newer one is renamed over it. */
export const openBlobFile = async (path: string): Promise<OpenedBlob> => {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(MAX_HEADER, size));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const nl = head.subarray(0, bytesRead).indexOf(0x0a);
    const line = nl < 0 ? "" : head.subarray(0, nl).toString("latin1");
    if (!line.startsWith(MAGIC)) throw new Error(`corrupt blob file ${path}`);
    return { handle, contentType: line.slice(MAGIC.length), start: nl + 1, bytes: size - nl - 1 };
  } catch (e) {
    await handle.close();
    throw e;
  }
};

const CHUNK = 64 * 1024;

/** Streams the body and closes the handle when the reader finishes, fails or stops early. */
async function* readBody(blob: OpenedBlob): AsyncGenerator<Uint8Array> {
  const stream = blob.handle.createReadStream({ start: blob.start, highWaterMark: CHUNK, autoClose: true });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } finally {
    stream.destroy();
  }
}

/**
 * The body of an opened blob, readable once. A body nobody starts reading (a HEAD request, a caller
 * that only wanted the size) releases its file handle after `abandonAfterMs` instead of leaking it.
 */
export const bodyOf = (blob: OpenedBlob, abandonAfterMs = 30_000): AsyncIterable<Uint8Array> => {
  let started = false;
  const timer = setTimeout(() => void blob.handle.close().catch(() => undefined), abandonAfterMs);
  timer.unref();
  return {
    [Symbol.asyncIterator]() {
      if (started) throw new Error("a blob body can only be read once");
      started = true;
      clearTimeout(timer);
      return readBody(blob);
    },
  };
};

const fsyncDir = async (dir: string): Promise<void> => {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (e) {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EINVAL" && code !== "EPERM" && code !== "EBADF") throw e;
  } finally {
    await handle?.close();
  }
};

/**
 * Writes to a temp file in `stagingDir` (on the same file system as `path`), fsyncs it, renames it
 * over `path` and fsyncs the directory, so `path` holds either the old file or the complete new one.
 * The temp file never outlives a failure; one a crash leaves behind sits in `stagingDir`, where a
 * sweep finds it with one directory read.
 */
export const writeAtomically = async (path: string, contentType: string, body: AsyncIterable<Uint8Array>, stagingDir = dirname(path)): Promise<number> => {
  const header = headerFor(contentType);
  const dir = dirname(path);
  const tmp = join(stagingDir, `.tmp-${randomBytes(12).toString("hex")}`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, "wx", 0o644);
    await writeAll(handle, header);
    let total = 0;
    for await (const chunk of body) {
      await writeAll(handle, chunk);
      total += chunk.byteLength;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
    await fsyncDir(dir);
    return total;
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
};

const writeAll = async (handle: FileHandle, chunk: Uint8Array): Promise<void> => {
  let at = 0;
  while (at < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, at, chunk.byteLength - at);
    at += bytesWritten;
  }
};
