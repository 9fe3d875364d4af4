import { notFound, streamOf, unavailable, type BlobContent, type BlobStore, type ByteStream, type NotFound, type Unavailable } from "@image-api/core";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { signedDeliveryPath, type ResourceType } from "./cloudinary.delivery-url.js";
import { looksLikeImage, SNIFF_BYTES } from "./cloudinary.image-sniff.js";
import { envelopeHeader, openEnvelope } from "./cloudinary.raw-envelope.js";
import { cloudinarySdk, CloudinaryCallError, type CloudinaryAccount } from "./cloudinary.sdk.js";

export interface CloudinaryBlobStoreOptions extends CloudinaryAccount {
  /** Delivery origin; defaults to `https://res.cloudinary.com`. */
  readonly deliveryBaseUrl?: string;
  /** Tags put on every uploaded original (e.g. the deployment's name). */
  readonly tags?: readonly string[];
}

export const CLOUDINARY_DELIVERY = "https://res.cloudinary.com";
const TYPE = "authenticated";

const failure =
  (what: string) =>
  (e: unknown): Unavailable => {
    const detail =
      e instanceof CloudinaryCallError && e.httpCode !== null ? `HTTP ${e.httpCode}: ${e.message}` : e instanceof Error ? e.message : String(e);
    return unavailable(`cloudinary ${what} failed (${detail})`, e instanceof CloudinaryCallError ? e : undefined);
  };

const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
};

/** Buffers the first `n` bytes of `body` to look at, and replays them ahead of the rest. */
const peek = async (body: ByteStream, n: number): Promise<{ head: Uint8Array; stream: AsyncGenerator<Uint8Array> }> => {
  const it = body[Symbol.asyncIterator]();
  const buffered: Uint8Array[] = [];
  let size = 0;
  let ended = false;
  while (size < n) {
    const next = await it.next();
    if (next.done) {
      ended = true;
      break;
    }
    buffered.push(next.value);
    size += next.value.byteLength;
  }
  async function* stream(): AsyncGenerator<Uint8Array> {
    let finished = ended;
    try {
      yield* buffered;
      while (!finished) {
        const next = await it.next();
        if (next.done) finished = true;
        else yield next.value;
      }
    } finally {
      // Lets the caller's stream release its resources when the upload stops early.
      if (!finished) await it.return?.();
    }
  }
  return { head: concat(buffered).subarray(0, n), stream: stream() };
};

async function* withHeader(header: Uint8Array, body: AsyncIterable<Uint8Array>, tally: { bytes: number }): AsyncGenerator<Uint8Array> {
  if (header.byteLength > 0) yield header;
  for await (const chunk of body) {
    tally.bytes += chunk.byteLength;
    yield chunk;
  }
}

async function* fromWeb(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // An abandoned read releases the connection instead of leaving it half-read.
    if (!done) await reader.cancel().catch(() => undefined);
  }
}


/**
 * Originals as `authenticated` Cloudinary assets, written through the upload API (via the SDK) and
 * read back through signed delivery URLs. Images are stored as `image` assets, byte for byte, so
 * Cloudinary can transform them for the signed thumbnail URLs; anything it would refuse as an image
 * is kept as a `raw` file with its media type in a header. Cloudinary renders transformations
 * itself, so no rendition is ever stored, and deleting needs no Admin API call.
 */
export const cloudinaryBlobStore = (options: CloudinaryBlobStoreOptions): BlobStore => {
  const sdk = cloudinarySdk(options);
  const deliveryBase = (options.deliveryBaseUrl ?? CLOUDINARY_DELIVERY).replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 60_000;

  /** The asset as stored: no transformation, no version, no extension (its own format). */
  const urlOf = (publicId: string, resourceType: ResourceType): string =>
    deliveryBase +
    signedDeliveryPath(
      { cloudName: options.cloudName, resourceType, type: TYPE, transformation: "", version: null, publicId, format: null },
      options.apiSecret,
      options.signatureAlgorithm,
    );

  /** Fetches with a deadline on the response head only, so a long body is not cut off midway. */
  const request = async (url: string, method: "GET" | "HEAD"): Promise<Response> => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      return await fetch(url, { method, signal: controller.signal });
    } finally {
      clearTimeout(timer);
    }
  };

  const fetchAsset = async (publicId: string, resourceType: ResourceType): Promise<BlobContent | null> => {
    const res = await request(urlOf(publicId, resourceType), "GET");
    if (res.status !== 200 || res.body === null) {
      await res.body?.cancel();
      if (res.status === 404) return null;
      const reason = res.headers.get("x-cld-error");
      throw new Error(`delivery answered HTTP ${res.status}${reason ? ` (${reason})` : ""}`);
    }
    const declared = res.headers.get("content-length");
    const length = declared === null ? NaN : Number(declared);
    // Without a length up front (chunked) the whole body is read, since the port promises a size.
    const [payload, size] = Number.isSafeInteger(length)
      ? [fromWeb(res.body), length]
      : await res.arrayBuffer().then((b) => [streamOf(new Uint8Array(b)), b.byteLength] as const);
    if (resourceType === "image") return { body: payload, bytes: size, contentType: res.headers.get("content-type") ?? "application/octet-stream" };
    const opened = await openEnvelope(payload);
    return { body: opened.body, bytes: size - opened.headerBytes, contentType: opened.contentType };
  };

  /** Images first (what the core stores), then raw files. */
  const read = (publicId: string, missing: string): TE.TaskEither<NotFound | Unavailable, BlobContent> =>
    pipe(
      TE.tryCatch(async () => (await fetchAsset(publicId, "image")) ?? (await fetchAsset(publicId, "raw")), failure(`get ${publicId}`)),
      TE.chainW((found) => (found === null ? TE.left(notFound(missing)) : TE.right(found))),
    );

  const present = async (publicId: string, resourceType: ResourceType): Promise<boolean> => {
    const res = await request(urlOf(publicId, resourceType), "HEAD");
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw new Error(`delivery answered HTTP ${res.status}`);
  };

  /**
   * Uploads as an image when the bytes look like one, else as raw. Reads look for an image first, so
   * only a raw upload has to destroy an image of the same key (afterwards, so readers meet the old
   * bytes until the new ones are complete); an image upload makes no second call. Keys are fresh per
   * upload in practice, so neither case replaces anything.
   */
  const write = async (publicId: string, body: ByteStream, contentType: string, tags?: readonly string[]) => {
    const { head, stream } = await peek(body, SNIFF_BYTES);
    const resourceType: ResourceType = contentType.toLowerCase().startsWith("image/") && looksLikeImage(head) ? "image" : "raw";
    const header = resourceType === "raw" ? envelopeHeader(contentType) : new Uint8Array(0);
    const tally = { bytes: 0 };
    const result = await sdk.upload(withHeader(header, stream, tally), {
      publicId,
      resourceType,
      type: TYPE,
      ...(tags ? { tags } : {}),
    });
    if (result.bytes !== tally.bytes + header.byteLength) {
      throw new Error(`Cloudinary stored ${result.bytes} bytes of ${tally.bytes + header.byteLength} sent`);
    }
    if (resourceType === "raw") await sdk.destroy(publicId, "image", TYPE);
    return { bytes: tally.bytes, version: result.version };
  };

  return {
    // Tagged with the album, as Cloudinary's own `tags` mirror it in the family's `infos.tags`.
    put: (key, body, contentType, labels) =>
      TE.tryCatch(() => write(key, body, contentType, [...(options.tags ?? []), ...(labels?.albumId ? [labels.albumId] : [])]), failure(`upload ${key}`)),

    get: (key) => read(key, `blob ${key} not found`),

    exists: (key) => TE.tryCatch(async () => (await present(key, "image")) || (await present(key, "raw")), failure(`head ${key}`)),

    // Upload API destroys only: the Admin API is rate-limited per hour and account, and there are no
    // stored renditions to find by prefix. The raw kind is rare but possible, so both are destroyed.
    delete: (key) =>
      TE.tryCatch(async () => {
        await sdk.destroy(key, "image", TYPE);
        await sdk.destroy(key, "raw", TYPE);
      }, failure(`delete ${key}`)),

    // Cloudinary renders every transformation named in a signed URL itself, so nothing is cached here.
    getRendition: (key, name) => TE.left(notFound(`rendition ${name} of blob ${key} not found`)),

    putRendition: () => TE.right(undefined),
  };
};
