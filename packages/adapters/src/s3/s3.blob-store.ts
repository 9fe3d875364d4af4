import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type GetObjectCommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { unavailable, type BlobContent, type BlobKey, type BlobStore, type ByteStream, type NotFound, type Unavailable } from "@image-api/core";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { isMissingObject, s3NotFoundOrUnavailable, s3Unavailable } from "./s3.errors.js";
import { s3Layout } from "./s3.keys.js";

export interface S3BlobStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Folder inside the bucket, e.g. "image-api/"; a missing trailing "/" is added. */
  readonly prefix?: string;
  /** Multipart part size in bytes; S3 requires at least 5 MiB. */
  readonly partSize?: number;
  /** Parts in flight at once; memory held by an upload is about (queueSize + 1) × partSize. */
  readonly queueSize?: number;
}

export const S3_PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
/** DeleteObjects takes at most this many keys, and ListObjectsV2 pages are no larger. */
const DELETE_BATCH = 1000;

interface Tally {
  bytes: number;
  /** Set when the caller's body failed, as opposed to S3. */
  bodyError?: unknown;
}

async function* counted(body: ByteStream, tally: Tally): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) {
      tally.bytes += chunk.byteLength;
      yield chunk;
    }
  } catch (e) {
    tally.bodyError = e;
    throw e;
  }
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

const asByteStream = (out: GetObjectCommandOutput): ByteStream | null => {
  const body: unknown = out.Body;
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body ? (body as ByteStream) : null;
};

/**
 * Blobs and their cached renditions in one S3 bucket. Uploads stream through multipart parts, and a
 * body that fails midway aborts the multipart upload, so no object ever appears under a half-written key.
 */
export const s3BlobStore = (options: S3BlobStoreOptions): BlobStore => {
  const { client, bucket } = options;
  const layout = s3Layout(options.prefix);

  const read = (objectKey: string, missing: string): TE.TaskEither<NotFound | Unavailable, BlobContent> =>
    pipe(
      TE.tryCatch(() => client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey })), s3NotFoundOrUnavailable(`get ${objectKey}`, missing)),
      TE.chainW((out) => {
        const body = asByteStream(out);
        if (body === null || out.ContentLength === undefined) {
          return TE.left(unavailable(`s3 get ${objectKey} returned no body or length`));
        }
        return TE.right({ body, bytes: out.ContentLength, contentType: out.ContentType ?? "application/octet-stream" });
      }),
    );

  const upload = async (key: BlobKey, body: ByteStream, contentType: string) => {
    const tally: Tally = { bytes: 0 };
    // One chunk of read-ahead: the part buffers are the only place bytes accumulate.
    const source = Readable.from(counted(body, tally), { objectMode: true, highWaterMark: 1 });
    try {
      await new Upload({
        client,
        params: { Bucket: bucket, Key: layout.blob(key), Body: source, ContentType: contentType },
        partSize: options.partSize ?? S3_PART_SIZE,
        queueSize: options.queueSize ?? QUEUE_SIZE,
        leavePartsOnError: false,
      }).done();
    } catch (e) {
      // Name the body as the culprit even when S3 then failed too (typically aborting the upload).
      if (tally.bodyError === undefined || e === tally.bodyError) throw e;
      throw new Error(`the body failed after ${tally.bytes} bytes (${message(tally.bodyError)}); S3 also reported: ${message(e)}`, { cause: e });
    } finally {
      // Releases the caller's stream when the upload stopped before reading it to the end.
      source.destroy();
    }
    return { bytes: tally.bytes, version: Math.floor(Date.now() / 1000) };
  };

  const blobExists = (key: BlobKey): Promise<boolean> =>
    client.send(new HeadObjectCommand({ Bucket: bucket, Key: layout.blob(key) })).then(
      () => true,
      (e: unknown) => {
        if (isMissingObject(e)) return false;
        throw e;
      },
    );

  const removeRenditions = async (key: BlobKey) => {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: layout.renditionsOf(key), ContinuationToken: token, MaxKeys: DELETE_BATCH }),
      );
      const objects = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
      if (objects.length > 0) {
        const result = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
        const failed = result.Errors ?? [];
        if (failed.length > 0) {
          throw new Error(`could not delete ${failed.length} rendition(s), first: ${failed[0]?.Key} (${failed[0]?.Code})`);
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  };

  return {
    put: (key, body, contentType) => TE.tryCatch(() => upload(key, body, contentType), s3Unavailable(`put ${key}`)),

    get: (key) => read(layout.blob(key), `blob ${key} not found`),

    exists: (key) => TE.tryCatch(() => blobExists(key), s3Unavailable(`head ${key}`)),

    // Renditions go first: if this fails halfway the blob is still there and a retry finishes the job,
    // and a cached rendition never outlives its original. The second pass, after the blob is gone,
    // removes one a render was writing meanwhile (putRendition removes any it writes later).
    delete: (key) =>
      TE.tryCatch(async () => {
        await removeRenditions(key);
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: layout.blob(key) }));
        await removeRenditions(key);
      }, s3Unavailable(`delete ${key}`)),

    getRendition: (key, name) => read(layout.rendition(key, name), `rendition ${name} of blob ${key} not found`),

    putRendition: (key, name, body, contentType) =>
      TE.tryCatch(async () => {
        const target = layout.rendition(key, name);
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: target, Body: body, ContentType: contentType, ContentLength: body.byteLength }));
        // A render that began before a delete may finish after it; S3 reads are strongly consistent, so
        // either this sees the blob and the delete's second pass removes the rendition, or this removes it.
        if (!(await blobExists(key))) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: target }));
      }, s3Unavailable(`put rendition ${name} of ${key}`)),
  };
};
