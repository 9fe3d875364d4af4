import {
  conflict,
  forbidden,
  inAlbum,
  inScope,
  type Forbidden,
  type ListingPosition,
  type Removal,
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
  DUPLICATE,
  duplicateParams,
  INSERT_COPY,
  INSERT_COPY_COMPLETING,
  INSERT_IMAGE,
  toImage,
  type BlobRow,
  type ImageRow,
} from "./image.row.js";
import { complete, completionParams } from "./postgres.idempotency-store.js";
import { compileSearch, searchAssignments, searchColumns } from "./search.sql.js";
import type { SqlClient, SqlExecutor } from "./sql-client.js";
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

/**
 * Locks the blob rows a delete took images from (in key order, so two batches never deadlock), with a
 * lock that waits for other deletes but not for copies, whose foreign keys take key-share locks.
 */
const lockBlobs = async (tx: SqlExecutor, keys: readonly string[]): Promise<BlobRow[]> =>
  keys.length === 0
    ? []
    : (await tx.query<BlobRow>(`SELECT b.key AS blob_key, ${blobColumns("b")} FROM blobs b WHERE b.key = ANY($1::text[]) ORDER BY b.key FOR NO KEY UPDATE`, [[...keys]]))
        .rows;

/**
 * Marks the blobs no image holds any more (refs 0) and returns their keys. A statement of its own after
 * `lockBlobs`: it sees every delete committed before the lock was granted, so of two deletes racing for
 * a blob's last two images the second always finds the blob unheld.
 */
const releaseUnheld = async (tx: SqlExecutor, keys: readonly string[]): Promise<Set<string>> =>
  keys.length === 0
    ? new Set()
    : new Set(
        (
          await tx.query<{ key: string }>(
            "UPDATE blobs b SET refs = 0 WHERE b.key = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM images i WHERE i.blob_key = b.key) RETURNING b.key",
            [[...keys]],
          )
        ).rows.map((r) => r.key),
      );

/** Columns of rows, for unnest. */
const transpose = <T extends unknown[]>(rows: readonly T[]): unknown[][] => (rows[0] ?? [0, 0, 0]).map((_, c) => rows.map((r) => r[c]));

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

  listByAlbum: (tenant, albumId, { offset, limit, after, before }) =>
    run(() =>
      client.transaction(async (tx) => {
        // One snapshot for both statements, so the total matches the page.
        await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        const count = await tx.query<{ total: string | number }>("SELECT count(*) AS total FROM images WHERE tenant = $1 AND album_id = $2", [tenant, albumId]);
        // Keyset: a row comparison on the columns images_album_listing_idx (tenant, album_id, created_at DESC,
        // id DESC) continues with, so the scan starts at the position instead of counting its way there.
        const params: unknown[] = [tenant, albumId];
        const bound = (op: "<" | ">", at: ListingPosition): string => {
          params.push(at.createdAt, at.id);
          return ` AND (i.created_at, i.id) ${op} ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
        };
        const where = `i.tenant = $1 AND i.album_id = $2${after ? bound("<", after) : ""}${before ? bound(">", before) : ""}`;
        // From `before`, the rows nearest to it are the first ones in ascending order (the index read
        // backwards); they are turned back to newest first.
        const order = before ? "ASC" : "DESC";
        params.push(page(offset), page(limit));
        const items = await tx.query<ImageRow>(
          `${SELECT_IMAGE} WHERE ${where} ORDER BY i.created_at ${order}, i.id ${order} OFFSET $${params.length - 1} LIMIT $${params.length}`,
          params,
        );
        const rows = before ? items.rows.reverse() : items.rows;
        return E.right({ items: rows.map(toImage), total: Number(count.rows[0]?.total ?? 0) });
      }),
    ),

  search: (tenant, scope, query, options, { offset, limit }) =>
    run(async () => {
      const albums = scope.kind === "tenant" ? null : [...scope.albums];
      const { where, params } = compileSearch(query, { ...options, firstParam: 3 });
      const filter = `i.tenant = $1 AND ($2::text[] IS NULL OR i.album_id = ANY($2::text[])) AND ${where}`;
      const n = 3 + params.length;
      // One statement, so one snapshot and one round trip: the total, with the page joined to it (a page
      // past the end still answers the total, in one row without an image). Each half keeps its own plan.
      const { rows } = await client.query<ImageRow & { total: string | number }>(
        `SELECT t.total, p.* FROM (SELECT count(*) AS total FROM images i WHERE ${filter}) t
           LEFT JOIN (${SELECT_IMAGE} WHERE ${filter} ORDER BY i.created_at DESC, i.id DESC OFFSET $${n} LIMIT $${n + 1}) p ON TRUE`,
        [tenant, albums, ...params, page(offset), page(limit)],
      );
      return E.right({ items: rows.filter((r) => r.id !== null).map(toImage), total: Number(rows[0]?.total ?? 0) });
    }),

  insert: (image, completion) =>
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
          await complete(tx, completion);
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
  insertCopy: (sourceId, copy, completion) =>
    runInsert(
      async () => {
        const { rows } = await client.query(
          completion ? INSERT_COPY_COMPLETING : INSERT_COPY,
          completion ? [...copyParams(sourceId, copy), ...completionParams(completion)] : copyParams(sourceId, copy),
        );
        return rows.length > 0 ? E.right(undefined) : E.left<NotFound>(imageNotFound(sourceId));
      },
      () => conflict(`image ${copy.id} already exists`),
    ),

  duplicate: (tenant, sourceId, scope, copy) =>
    runInsert(
      async () => {
        const albums = scope.kind === "tenant" ? null : [...scope.albums];
        const { rows } = await client.query<ImageRow>(DUPLICATE, duplicateParams(tenant, sourceId, albums, copy), { name: "image_api_duplicate" });
        if (rows[0]) return E.right(toImage(rows[0]));
        // Refused or missing: only now is it worth a second look, to say which.
        const found = await client.query<{ album_id: string }>("SELECT album_id FROM images WHERE id = $1 AND tenant = $2", [sourceId, tenant]);
        const album = found.rows[0]?.album_id;
        return E.left<NotFound | Forbidden>(
          album !== undefined && !inScope(scope, album) ? forbidden(`token lacks image_duplicate on album ${album}`) : imageNotFound(sourceId),
        );
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
                  updated_at = $10, version = version + 1,
                  ${searchAssignments(12)}
            WHERE id = $1 AND version = $2 AND tenant = $11
           RETURNING *
         )
         SELECT ${imageColumns("u")}, ${blobColumns("b")} FROM u JOIN blobs b ON b.key = u.blob_key`,
        [image.id, expectedVersion, ...editParams(image), image.updatedAt, image.tenant, ...searchColumns(image)],
      );
      if (rows[0]) return E.right(toImage(rows[0]));
      const exists = await client.query("SELECT 1 FROM images WHERE id = $1 AND tenant = $2", [image.id, image.tenant]);
      return E.left<NotFound | Conflict>(
        exists.rows.length > 0
          ? conflict(`image ${image.id} was modified concurrently (expected version ${expectedVersion})`)
          : imageNotFound(image.id),
      );
    }),

  remove: (tenant, id, completion) =>
    run(() =>
      client.transaction(async (tx) => {
        const deleted = await tx.query<ImageRow>(`DELETE FROM images i WHERE i.id = $1 AND i.tenant = $2 RETURNING ${imageColumns("i")}`, [id, tenant]);
        const row = deleted.rows[0];
        if (!row) return E.left<NotFound>(imageNotFound(id));
        const [b] = await lockBlobs(tx, [row.blob_key]);
        if (!b) throw new Error(`blob ${row.blob_key} of image ${id} is missing`);
        const released = await releaseUnheld(tx, [row.blob_key]);
        await complete(tx, completion);
        return E.right({ image: toImage({ ...row, ...b }), orphanedBlob: released.has(row.blob_key) ? (row.blob_key as BlobKey) : null });
      }),
    ),

  removeAll: (tenant, ids, scope, completion) =>
    run(() =>
      client.transaction(async (tx) => {
        // Locked first, so the scope check and the delete see the same rows.
        const locked = await tx.query<{ album_id: string }>("SELECT album_id FROM images WHERE tenant = $1 AND id = ANY($2::uuid[]) FOR UPDATE", [
          tenant,
          [...ids],
        ]);
        const outside = locked.rows.find((r) => !inScope(scope, r.album_id));
        if (outside) return E.left<Forbidden>(forbidden(`token lacks image_delete on album ${outside.album_id}`));
        if (locked.rows.length === 0) {
          await complete(tx, completion?.([]));
          return E.right([]);
        }
        const deleted = await tx.query<ImageRow>(`DELETE FROM images i WHERE i.tenant = $1 AND i.id = ANY($2::uuid[]) RETURNING ${imageColumns("i")}`, [
          tenant,
          [...ids],
        ]);
        const keys = [...new Set(deleted.rows.map((r) => r.blob_key))];
        const blobs = new Map((await lockBlobs(tx, keys)).map((b) => [b.blob_key, b]));
        const released = await releaseUnheld(tx, keys);
        const reported = new Set<string>();
        const removals = deleted.rows.map((row): Removal => {
          const last = released.has(row.blob_key) && !reported.has(row.blob_key);
          if (last) reported.add(row.blob_key);
          return { image: toImage({ ...row, ...blobs.get(row.blob_key)! }), orphanedBlob: last ? (row.blob_key as BlobKey) : null };
        });
        await complete(tx, completion?.(removals));
        return E.right(removals);
      }),
    ),

  move: (tenant, moves, from, at, completion) =>
    run(() =>
      client.transaction(async (tx) => {
        const ids = moves.map((m) => m.id);
        const locked = await tx.query<ImageRow>(`${SELECT_IMAGE} WHERE i.tenant = $1 AND i.id = ANY($2::uuid[]) FOR UPDATE OF i`, [tenant, ids]);
        const outside = locked.rows.find((r) => !inScope(from, r.album_id));
        if (outside) return E.left<Forbidden>(forbidden(`token lacks image_delete on album ${outside.album_id}`));
        const to = new Map(moves.map((m) => [m.id as string, m.to]));
        const moved = locked.rows.map((row) => {
          const image = toImage(row);
          return { ...inAlbum(image, to.get(image.id)!), updatedAt: at, version: image.version + 1 };
        });
        await complete(tx, completion?.(moved));
        if (moved.length === 0) return E.right([]);
        await tx.query(
          // The lexemes travel as JSON: unnest cannot take an array of arrays of different lengths.
          `UPDATE images i SET album_id = m.album_id, infos = m.infos::json, updated_at = $4, version = i.version + 1,
                  search_lexemes = ARRAY(SELECT json_array_elements_text(m.lexemes::json)), search_text = m.text, filename_folded = m.filename
             FROM unnest($2::uuid[], $3::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS m(id, album_id, infos, lexemes, text, filename)
            WHERE i.tenant = $1 AND i.id = m.id`,
          [
            tenant,
            moved.map((i) => i.id),
            moved.map((i) => i.albumId),
            at,
            moved.map((i) => JSON.stringify(i.infos)),
            ...transpose(moved.map(searchColumns)).map((column, c) => (c === 0 ? column.map((l) => JSON.stringify(l)) : column)),
          ],
        );
        return E.right(moved);
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
      const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM images WHERE blob_key = $1", [key]);
      return E.right(rows[0]?.n ?? 0);
    }),
});
