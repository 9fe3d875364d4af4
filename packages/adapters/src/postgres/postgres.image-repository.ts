import {
  conflict,
  imageNotFound,
  type BlobKey,
  type Conflict,
  type ImageRepository,
  type NotFound,
  type Unavailable,
} from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import type * as TE from "fp-ts/lib/TaskEither.js";
import {
  blobColumns,
  blobParams,
  copyParams,
  editParams,
  imageColumns,
  imageParams,
  INSERT_COPY,
  INSERT_IMAGE,
  toImage,
  type BlobRow,
  type ImageRow,
} from "./image.row.js";
import type { SqlClient } from "./sql-client.js";
import { isUniqueViolation, toUnavailable } from "./sql-errors.js";

const SELECT_IMAGE = `SELECT ${imageColumns("i")}, ${blobColumns("b")} FROM images i JOIN blobs b ON b.key = i.blob_key`;

/** Runs a database call; whatever it throws is Unavailable. */
const run =
  <Err, A>(work: () => Promise<E.Either<Err, A>>): TE.TaskEither<Err | Unavailable, A> =>
  () =>
    work().catch((e: unknown) => E.left(toUnavailable(e)));

/** As `run`, but a unique violation means the row already exists. */
const runInsert =
  <Err, A>(work: () => Promise<E.Either<Err, A>>, duplicate: () => Conflict): TE.TaskEither<Err | Conflict | Unavailable, A> =>
  () =>
    work().catch((e: unknown) => E.left(isUniqueViolation(e) ? duplicate() : toUnavailable(e)));

const page = (n: number): number => (Number.isFinite(n) ? Math.max(0, Math.floor(n)) : 0);

/**
 * The same SQL runs on server Postgres (pg.Pool) and on PGlite. Every function is one statement or one
 * transaction; the reference count lives on the blob row, whose row lock orders competing copies and deletes.
 */
export const postgresImageRepository = (client: SqlClient): ImageRepository => ({
  findById: (tenant, id) =>
    run(async () => {
      const { rows } = await client.query<ImageRow>(`${SELECT_IMAGE} WHERE i.id = $1 AND i.tenant = $2`, [id, tenant]);
      return rows[0] ? E.right(toImage(rows[0])) : E.left<NotFound>(imageNotFound(id));
    }),

  listByAlbum: (tenant, albumId, { offset, limit }) =>
    run(() =>
      client.transaction(async (tx) => {
        // One snapshot for both statements, so the total matches the page.
        await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        const count = await tx.query<{ total: string | number }>("SELECT count(*) AS total FROM images WHERE tenant = $1 AND album_id = $2", [tenant, albumId]);
        const items = await tx.query<ImageRow>(
          `${SELECT_IMAGE} WHERE i.tenant = $1 AND i.album_id = $2 ORDER BY i.created_at DESC, i.id DESC OFFSET $3 LIMIT $4`,
          [tenant, albumId, page(offset), page(limit)],
        );
        return E.right({ items: items.rows.map(toImage), total: Number(count.rows[0]?.total ?? 0) });
      }),
    ),

  insert: (image) =>
    runInsert(
      () =>
        client.transaction(async (tx) => {
          // A reservation (refs 0, reserved_at set) is taken over; a blob held or released is a conflict.
          const held = await tx.query(
            `INSERT INTO blobs (key, refs, format, content_type, bytes, etag, version) VALUES ($1, 1, $2, $3, $4, $5, $6)
             ON CONFLICT (key) DO UPDATE
               SET refs = 1, reserved_at = NULL, format = EXCLUDED.format, content_type = EXCLUDED.content_type,
                   bytes = EXCLUDED.bytes, etag = EXCLUDED.etag, version = EXCLUDED.version
               WHERE blobs.refs = 0 AND blobs.reserved_at IS NOT NULL
             RETURNING key`,
            blobParams(image.blob),
          );
          if (held.rows.length === 0) return E.left<Conflict>(conflict(`blob ${image.blob.key} already exists`));
          await tx.query(INSERT_IMAGE, imageParams(image));
          return E.right(undefined);
        }),
      () => conflict(`image ${image.id} or blob ${image.blob.key} already exists`),
    ),

  reserveBlob: (blob, at) =>
    runInsert(
      async () => {
        await client.query(
          "INSERT INTO blobs (key, refs, format, content_type, bytes, etag, version, reserved_at) VALUES ($1, 0, $2, $3, $4, $5, $6, $7)",
          [...blobParams(blob), at],
        );
        return E.right(undefined);
      },
      () => conflict(`blob ${blob.key} already exists`),
    ),

  // One statement, so one round trip on the duplicate path; a source deleted first is simply not found.
  insertCopy: (sourceId, copy) =>
    runInsert(
      async () => {
        const { rows } = await client.query(INSERT_COPY, copyParams(sourceId, copy));
        return rows.length > 0 ? E.right(undefined) : E.left<NotFound>(imageNotFound(sourceId));
      },
      () => conflict(`image ${copy.id} already exists`),
    ),

  update: (image, expectedVersion) =>
    run(async () => {
      const { rows } = await client.query<ImageRow>(
        `WITH u AS (
           UPDATE images
              SET title = $3, description = $4, rotation = $5,
                  crop_x = $6, crop_y = $7, crop_w = $8, crop_h = $9,
                  updated_at = $10, version = version + 1
            WHERE id = $1 AND version = $2 AND tenant = $11
           RETURNING *
         )
         SELECT ${imageColumns("u")}, ${blobColumns("b")} FROM u JOIN blobs b ON b.key = u.blob_key`,
        [image.id, expectedVersion, ...editParams(image), image.updatedAt, image.tenant],
      );
      if (rows[0]) return E.right(toImage(rows[0]));
      const exists = await client.query("SELECT 1 FROM images WHERE id = $1 AND tenant = $2", [image.id, image.tenant]);
      return E.left<NotFound | Conflict>(
        exists.rows.length > 0
          ? conflict(`image ${image.id} was modified concurrently (expected version ${expectedVersion})`)
          : imageNotFound(image.id),
      );
    }),

  remove: (tenant, id) =>
    run(() =>
      client.transaction(async (tx) => {
        const deleted = await tx.query<ImageRow>(`DELETE FROM images i WHERE i.id = $1 AND i.tenant = $2 RETURNING ${imageColumns("i")}`, [id, tenant]);
        const row = deleted.rows[0];
        if (!row) return E.left<NotFound>(imageNotFound(id));
        // The blob row's lock serializes sibling deletes: exactly one of them sees the count reach zero.
        const blob = await tx.query<BlobRow & { refs: number }>(
          `UPDATE blobs b SET refs = b.refs - 1 WHERE b.key = $1 RETURNING b.refs, b.key AS blob_key, ${blobColumns("b")}`,
          [row.blob_key],
        );
        const b = blob.rows[0];
        if (!b) throw new Error(`blob ${row.blob_key} of image ${id} is missing`);
        return E.right({ image: toImage({ ...row, ...b }), orphanedBlob: b.refs === 0 ? (b.blob_key as BlobKey) : null });
      }),
    ),

  abandonBlob: (blob) =>
    run(async () => {
      // ON CONFLICT waits for an in-flight insert of the key, so the answer reflects its real outcome.
      const { rows } = await client.query<{ refs: number }>(
        `INSERT INTO blobs (key, refs, format, content_type, bytes, etag, version) VALUES ($1, 0, $2, $3, $4, $5, $6)
         ON CONFLICT (key) DO UPDATE SET reserved_at = NULL RETURNING refs`,
        blobParams(blob),
      );
      return E.right(rows[0]?.refs === 0);
    }),

  releaseBlob: (key) =>
    run(async () => {
      // Only zero-reference rows: a late or repeated release never forgets a blob in use.
      await client.query("DELETE FROM blobs WHERE key = $1 AND refs = 0", [key]);
      return E.right(undefined);
    }),

  orphanedBlobs: (reservedBefore) =>
    run(async () => {
      const { rows } = await client.query<{ key: string }>(
        "SELECT key FROM blobs WHERE refs = 0 AND (reserved_at IS NULL OR reserved_at < $1) ORDER BY key",
        [reservedBefore ?? new Date(0)],
      );
      return E.right(rows.map((r) => r.key as BlobKey));
    }),

  blobReferences: (key) =>
    run(async () => {
      const { rows } = await client.query<{ refs: number }>("SELECT refs FROM blobs WHERE key = $1", [key]);
      return E.right(rows[0]?.refs ?? 0);
    }),
});
