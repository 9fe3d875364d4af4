import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as T from "fp-ts/lib/Task.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { releaseBlob } from "../delete-image/delete-image.command.js";
import { authorize } from "../../album/ability.policy.js";
import { ownerOf, type Claims, type Owner } from "../../auth/claims.codec.js";
import { type BlobRef, DESCRIPTION_MAX, newImage, TITLE_MAX, validateMetadatas, validateText, type Image } from "../../image/image.js";
import type { BlobStore, StoredBlob } from "../../ports/blob-store.port.js";
import type { Clock } from "../../ports/clock.port.js";
import type { IdGenerator } from "../../ports/id-generator.port.js";
import type { ImageInspector, Inspection } from "../../ports/image-inspector.port.js";
import type { Completion } from "../../ports/idempotency.port.js";
import { completionOf } from "../idempotent/idempotent.js";
import type { ImageRepository } from "../../ports/image-repository.port.js";
import {
  invalid,
  notFound,
  tooLarge,
  type Conflict,
  type FieldIssue,
  type Forbidden,
  type Invalid,
  type NotFound,
  type TooLarge,
  type Unavailable,
  type Unsupported,
} from "../../shared/errors.js";
import { AlbumId, type BlobKey, type ImageId } from "../../shared/ids.js";
import { streamOf } from "../../shared/bytes.js";
import type { JsonObject } from "../../shared/json.js";

export interface ClientLocation {
  readonly latitude: number;
  readonly longitude: number;
  readonly accuracy: number | null;
}

export interface UploadImageInput {
  readonly albumId: string;
  readonly bytes: Uint8Array;
  /** As sent by the client; the extension is dropped for `filename`. */
  readonly filename: string;
  readonly title?: string | null;
  readonly description?: string | null;
  readonly metadatas?: JsonObject;
  readonly location?: ClientLocation | null;
}

export interface UploadImageDeps {
  readonly images: ImageRepository;
  readonly blobs: BlobStore;
  readonly inspector: ImageInspector;
  readonly ids: IdGenerator;
  readonly clock: Clock;
  readonly maxUploadBytes: number;
}

export type UploadImageError = NotFound | Forbidden | Invalid | TooLarge | Unsupported | Conflict | Unavailable;

const FILENAME_MAX = 255;

export const baseName = (filename: string): string => {
  const name = filename.split(/[\\/]/).pop() ?? "";
  const dot = name.lastIndexOf(".");
  const stem = (dot > 0 ? name.slice(0, dot) : name).trim();
  return stem === "" ? "image" : stem;
};

const locationIssues = (l: ClientLocation | null | undefined): FieldIssue[] =>
  !l
    ? []
    : Math.abs(l.latitude) <= 90 && Math.abs(l.longitude) <= 180 && (l.accuracy === null || l.accuracy >= 0)
      ? []
      : [{ field: "location", message: "latitude must be within ±90, longitude within ±180, accuracy >= 0" }];

const validate = (input: UploadImageInput, maxBytes: number): E.Either<Invalid | TooLarge, void> => {
  if (input.bytes.byteLength > maxBytes) return E.left(tooLarge(maxBytes));
  const issues = [
    ...(input.bytes.byteLength === 0 ? [{ field: "file", message: "is required and must not be empty" }] : []),
    ...validateText("title", input.title, TITLE_MAX),
    ...validateText("description", input.description, DESCRIPTION_MAX),
    ...validateText("filename", input.filename, FILENAME_MAX),
    ...validateMetadatas(input.metadatas),
    ...locationIssues(input.location),
  ];
  return issues.length > 0 ? E.left(invalid(issues)) : E.right(undefined);
};

/** Cloudinary-style timestamp, as in the family's `infos.created_at`. */
const isoSeconds = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

export const buildUploadedImage = (
  input: UploadImageInput & { readonly albumId: AlbumId } & Owner,
  seen: Inspection,
  ids: { readonly id: ImageId; readonly key: BlobKey },
  stored: { readonly bytes: number; readonly version: number },
  now: Date,
): Image => {
  const filename = baseName(input.filename);
  const location = input.location;
  const infos: JsonObject = {
    bytes: stored.bytes,
    created_at: isoSeconds(now),
    etag: seen.etag,
    format: seen.format,
    height: seen.height,
    resource_type: "image",
    tags: [input.albumId],
    type: "authenticated",
    width: seen.width,
    original_filename: filename,
    ...(location ? { location: { accuracy: location.accuracy, latitude: location.latitude, longitude: location.longitude } } : {}),
  };
  return newImage({
    id: ids.id,
    tenant: input.tenant,
    createdBy: input.createdBy,
    albumId: input.albumId,
    blob: { key: ids.key, format: seen.format, contentType: seen.contentType, bytes: stored.bytes, etag: seen.etag, version: stored.version },
    width: seen.width,
    height: seen.height,
    filename,
    infos,
    exifs: seen.exifs,
    metadatas: input.metadatas ?? {},
    gpsHtml: location ? [location.latitude, location.longitude] : null,
    gpsExifs: seen.gps,
    takenAt: seen.takenAt,
    title: input.title,
    description: input.description,
    color: seen.color,
    now,
  });
};

/**
 * Inserts the row of freshly stored bytes. When the insert surely failed, the bytes and their
 * reservation go; when its outcome is in doubt (the connection broke after COMMIT was sent) the
 * repository settles it first, so bytes that a committed row references are never deleted. If even
 * that cannot be settled, bytes and reservation stay for the orphan sweep, which only takes a
 * reservation no insert took over.
 */
const insertOrDiscard =
  (deps: UploadImageDeps, complete?: (image: Image) => Promise<Completion>) =>
  (image: Image): TE.TaskEither<Conflict | Unavailable, Image> =>
    pipe(
      completionOf(complete, image),
      TE.chainW((completion) => deps.images.insert(image, completion)),
      TE.map(() => image),
      TE.orElse((e) =>
        e._tag === "Conflict" || !e.inDoubt
          ? discard(deps, image.blob.key, e)
          : pipe(
              deps.images.abandonBlob(image.blob),
              TE.matchE(
                // Still unknown: the reservation stays, and the orphan sweep settles it later.
                () => TE.left(e),
                (free) => (free ? discard(deps, image.blob.key, e) : TE.right(image)),
              ),
            ),
      ),
    );

/** Deletes the bytes and the reservation of a failed upload, then fails with `e`. */
const discard = <E, A>(deps: UploadImageDeps, key: BlobKey, e: E): TE.TaskEither<E, A> =>
  pipe(
    releaseBlob(deps)(key),
    T.map(() => E.left(e)),
  );

/** Reserves the blob, stores the bytes, then inserts the row that takes the reservation over. */
export const uploadImage =
  (deps: UploadImageDeps) =>
  (caller: Claims, input: UploadImageInput, complete?: (image: Image) => Promise<Completion>): TE.TaskEither<UploadImageError, Image> => {
    const albumId = input.albumId;
    if (!AlbumId.is(albumId)) return TE.left(notFound(`album ${albumId} not found`));
    return pipe(
      TE.fromEither(authorize(caller, albumId, "image_upload")),
      TE.chainEitherKW(() => validate(input, deps.maxUploadBytes)),
      TE.chainW(() => deps.inspector.inspect(input.bytes)),
      TE.chainW((seen) => {
        const ids = { id: deps.ids.uuid() as ImageId, key: deps.ids.uuid() as BlobKey };
        const provisional: BlobRef = {
          key: ids.key,
          format: seen.format,
          contentType: seen.contentType,
          bytes: input.bytes.byteLength,
          etag: seen.etag,
          version: 0,
        };
        return pipe(
          // The record comes before the bytes, so no crash can leave bytes nobody knows about.
          deps.images.reserveBlob(provisional, deps.clock.now()),
          TE.chainW(() =>
            pipe(
              deps.blobs.put(ids.key, streamOf(input.bytes), seen.contentType, { albumId }),
              TE.orElseW((e) => discard<typeof e, StoredBlob>(deps, ids.key, e)),
            ),
          ),
          TE.map((stored) => buildUploadedImage({ ...input, albumId, ...ownerOf(caller) }, seen, ids, stored, deps.clock.now())),
          TE.chainW(insertOrDiscard(deps, complete)),
        );
      }),
    );
  };
