import type { ByteStream } from "../ports/blob-store.port.js";

/** Bytes already in memory as a stream of one chunk. */
export async function* streamOf(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/**
 * Reads a whole stream into one array. Each chunk is copied as it arrives, since a producer may reuse
 * its buffer for the next one; past `limit` bytes it throws rather than keep reading.
 */
export const collect = async (body: ByteStream, limit = Number.POSITIVE_INFINITY): Promise<Uint8Array> => {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) throw new Error(`blob larger than ${limit} bytes`);
    chunks.push(chunk.slice());
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
};
