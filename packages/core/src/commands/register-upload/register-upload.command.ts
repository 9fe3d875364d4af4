import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { authorize } from "../../album/ability.policy.js";
import { ownerOf, type Claims, type Owner } from "../../auth/claims.codec.js";
import { DESCRIPTION_MAX, newImage, TITLE_MAX, validateMetadatas, validateText, type Image } from "../../image/image.js";
import type { Clock } from "../../ports/clock.port.js";
import type { ExternalAsset, ExternalUploadVerifier } from "../../ports/external-upload.port.js";
import type { IdGenerator } from "../../ports/id-generator.port.js";
import type { Completion } from "../../ports/idempotency.port.js";
import { completionOf } from "../idempotent/idempotent.js";
import type { ImageRepository } from "../../ports/image-repository.port.js";
import { conflict, invalid, notFound, type Conflict, type Forbidden, type Invalid, type NotFound, type Unavailable } from "../../shared/errors.js";
import { AlbumId, type ImageId } from "../../shared/ids.js";
import type { JsonObject } from "../../shared/json.js";
import { baseName } from "../upload-image/upload-image.command.js";

export interface RegisterUploadInput {
  readonly albumId: string;
  /** The upload response the client relays, e.g. the nested `cloudinary[...]` form fields. */
  readonly upload: JsonObject;
  readonly title?: string | null;
  readonly description?: string | null;
  readonly metadatas?: JsonObject;
}

export interface RegisterUploadDeps {
  readonly images: ImageRepository;
  readonly uploads: ExternalUploadVerifier;
  readonly ids: IdGenerator;
  readonly clock: Clock;
}

export type RegisterUploadError = NotFound | Forbidden | Invalid | Conflict | Unavailable;

const validate = (input: RegisterUploadInput): E.Either<Invalid, void> => {
  const issues = [
    ...validateText("title", input.title, TITLE_MAX),
    ...validateText("description", input.description, DESCRIPTION_MAX),
    ...validateMetadatas(input.metadatas),
  ];
  return issues.length > 0 ? E.left(invalid(issues)) : E.right(undefined);
};

export const buildRegisteredImage = (
  input: RegisterUploadInput & { readonly albumId: AlbumId } & Owner,
  asset: ExternalAsset,
  id: ImageId,
  now: Date,
): Image =>
  newImage({
    id,
    tenant: input.tenant,
    createdBy: input.createdBy,
    albumId: input.albumId,
    blob: asset.blob,
    width: asset.width,
    height: asset.height,
    filename: baseName(asset.originalFilename),
    infos: asset.infos,
    exifs: asset.exifs,
    metadatas: input.metadatas ?? {},
    gpsHtml: null,
    gpsExifs: asset.gps,
    takenAt: asset.takenAt,
    title: input.title,
    description: input.description,
    color: asset.color,
    now,
  });

/**
 * Records an image whose bytes the client already stored with the backend (a browser uploading
 * straight to Cloudinary): the relayed upload response is verified, then only the row is written.
 * The image owns the asset from then on, so the same asset can be registered once.
 */
export const registerUpload =
  (deps: RegisterUploadDeps) =>
  (caller: Claims, input: RegisterUploadInput, complete?: (image: Image) => Promise<Completion>): TE.TaskEither<RegisterUploadError, Image> => {
    const albumId = input.albumId;
    if (!AlbumId.is(albumId)) return TE.left(notFound(`album ${albumId} not found`));
    return pipe(
      TE.fromEither(authorize(caller, albumId, "image_upload")),
      TE.chainEitherKW(() => validate(input)),
      TE.chainW(() => deps.uploads.verify(input.upload)),
      TE.map((asset) => buildRegisteredImage({ ...input, albumId, ...ownerOf(caller) }, asset, deps.ids.uuid() as ImageId, deps.clock.now())),
      TE.chainW((image) =>
        pipe(
          completionOf(complete, image),
          TE.chainW((completion) => deps.images.insert(image, completion)),
          TE.mapLeft((e) => (e._tag === "Conflict" ? conflict(`asset ${image.blob.key} is already registered`) : e)),
          TE.map(() => image),
        ),
      ),
    );
  };
