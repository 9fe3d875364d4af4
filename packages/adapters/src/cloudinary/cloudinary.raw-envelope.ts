/**
 * Cloudinary keeps no media type for `raw` files (it answers by extension), so a raw blob carries
 * its own in a one-line header: `image-api-blob/1 <content type>\n` followed by the bytes.
 */
const MAGIC = "image-api-blob/1 ";
const MAX_HEADER = 512;
const NEWLINE = 0x0a;

export const envelopeHeader = (contentType: string): Uint8Array =>
  new TextEncoder().encode(`${MAGIC}${contentType.replace(/[\r\n]/g, "").slice(0, MAX_HEADER - MAGIC.length - 1)}\n`);

export interface OpenedEnvelope {
  readonly contentType: string;
  readonly headerBytes: number;
  /** The payload, starting right after the header. */
  readonly body: AsyncGenerator<Uint8Array>;
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
};

/** Reads the header off `source`; a file without one is returned whole as `application/octet-stream`. */
export const openEnvelope = async (source: AsyncIterable<Uint8Array>): Promise<OpenedEnvelope> => {
  const it = source[Symbol.asyncIterator]();
  let head: Uint8Array = new Uint8Array(0);
  let ended = false;
  while (head.indexOf(NEWLINE) < 0 && head.byteLength < MAX_HEADER) {
    const next = await it.next();
    if (next.done) {
      ended = true;
      break;
    }
    head = concat(head, next.value);
  }
  const newline = head.indexOf(NEWLINE);
  const line = newline < 0 ? "" : new TextDecoder().decode(head.subarray(0, newline));
  const wrapped = line.startsWith(MAGIC);
  const rest = wrapped ? head.subarray(newline + 1) : head;
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      if (rest.byteLength > 0) yield rest;
      if (ended) return;
      for (;;) {
        const next = await it.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      if (!ended) await it.return?.();
    }
  }
  return wrapped
    ? { contentType: line.slice(MAGIC.length) || "application/octet-stream", headerBytes: newline + 1, body: body() }
    : { contentType: "application/octet-stream", headerBytes: 0, body: body() };
};
