import type { Request, Router } from "express";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import {
  deleteImage,
  deleteImages,
  duplicateImage,
  embedImage,
  getImage,
  getImageUser,
  invalidField,
  moveImages,
  updateImage,
  type FieldIssue,
  type Image,
  type ImageChanges,
  type Invalid,
  type MoveOperations,
} from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import type { AppDeps } from "../deps.js";
import { bodyObject, failIfAny, optionalNumber, optionalText } from "../parse/fields.js";
import { presentEmbed } from "../present/embed.presenter.js";
import { presentImage } from "../present/image.presenter.js";
import { sendJson } from "../send.js";
import { handle, under } from "./run.js";
import { jsonAnswer, NO_CONTENT, write } from "./write.js";

const CROP_FIELDS = ["crop_x", "crop_y", "crop_w", "crop_h"] as const;

/** Reads a caption / rotate / crop change from a form or JSON body. */
export const parseChanges = (raw: unknown) => {
  const body = bodyObject(raw);
  const issues: FieldIssue[] = [];
  const title = optionalText(body, "title", issues);
  const description = optionalText(body, "description", issues);
  const rotation = optionalNumber(body, "rotation", issues);
  const crop = CROP_FIELDS.map((f) => optionalNumber(body, f, issues));
  const cropSent = CROP_FIELDS.filter((f) => body[f] !== undefined);
  if (cropSent.length > 0 && cropSent.length < CROP_FIELDS.length)
    issues.push({ field: "crop", message: "send crop_x, crop_y, crop_w and crop_h together" });
  const [x, y, w, h] = crop;
  const changes: ImageChanges = {
    ...(title === undefined ? {} : { title }),
    ...(description === undefined ? {} : { description }),
    ...(rotation === undefined ? {} : { rotation }),
    ...(x !== undefined && y !== undefined && w !== undefined && h !== undefined ? { crop: { x, y, w, h } } : {}),
  };
  return failIfAny(issues, changes);
};

const idOf = (req: Request): string => String(req.params.id);

/** `album_id` (form or JSON), the album a duplicate goes to; its source's when absent or empty (a form's blank field). */
export const parseDuplicate = (raw: unknown) => {
  const issues: FieldIssue[] = [];
  const albumId = optionalText(bodyObject(raw), "album_id", issues);
  return failIfAny(issues, albumId === undefined || albumId === null || albumId === "" ? {} : { albumId });
};

/** `image_ids[]=…&image_ids[]=…` (form) or `{"image_ids": [...]}` (JSON); one id alone may come as a plain field. */
export const parseIdList = (raw: unknown, field: string): E.Either<Invalid, string[]> => {
  const v = bodyObject(raw)[field];
  if (v === undefined) return E.left(invalidField(field, "required: send image_ids[]=<id> for each image"));
  const list = typeof v === "string" ? [v] : v;
  return Array.isArray(list) && list.every((x) => typeof x === "string") ? E.right(list) : E.left(invalidField(field, "must be a list of image ids"));
};

/** `move_operations[<image_id>]=<album_id>` (form) or `{"move_operations": {"<image_id>": "<album_id>"}}` (JSON). */
export const parseMoves = (raw: unknown): E.Either<Invalid, MoveOperations> => {
  const v = bodyObject(raw)["move_operations"];
  if (v === undefined) return E.left(invalidField("move_operations", "required: send move_operations[<image_id>]=<album_id>"));
  const ok = typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((to) => typeof to === "string");
  return ok ? E.right(v as MoveOperations) : E.left(invalidField("move_operations", "must map image ids to album ids"));
};

/** Registers the images routes on `router`, under `at`. */
export const imagesRouter = (deps: AppDeps, router: Router, at: string): Router => {
  const present = (res: Parameters<typeof sendJson>[0], image: Parameters<typeof presentImage>[0]) =>
    presentImage(image, deps.signer, deps.clock.now()).then((body) => sendJson(res, 200, body));

  const answerImage = (image: Image) => presentImage(image, deps.signer, deps.clock.now()).then((body) => jsonAnswer(body));

  router.post(
    under(at, "/:id/duplicate"),
    write(
      deps,
      (caller, req, guard) =>
        pipe(
          TE.fromEither(parseDuplicate(req.body)),
          TE.chainW((options) =>
            guard(req.body, (record) =>
              duplicateImage(deps)(caller, idOf(req), { ...options, complete: record && (async (copy) => record(await answerImage(copy))) }),
            ),
          ),
        ),
      (_res, copy) => answerImage(copy),
    ),
  );

  router.delete(
    under(at, "/"),
    write(
      deps,
      (caller, req, guard) =>
        pipe(
          TE.fromEither(parseIdList(req.body, "image_ids")),
          TE.chainW((ids) => guard(req.body, (record) => deleteImages(deps)(caller, ids, record && ((deleted) => record(jsonAnswer(deleted)))))),
        ),
      (_res, ids) => jsonAnswer(ids),
    ),
  );

  router.post(
    under(at, "/move"),
    write(
      deps,
      (caller, req, guard) =>
        pipe(
          TE.fromEither(parseMoves(req.body)),
          TE.chainW((moves) => guard(req.body, (record) => moveImages(deps)(caller, moves, record && ((moved) => record(jsonAnswer(moved)))))),
        ),
      (_res, ids) => jsonAnswer(ids),
    ),
  );

  router.get(
    under(at, "/:id"),
    handle(
      (caller, req) => getImage(deps)(caller, idOf(req)),
      async (res, { image, abilities }) => {
        res.setHeader("X-access-crop", String(abilities.has("image_crop")));
        res.setHeader("X-access-rotate", String(abilities.has("image_rotate")));
        res.setHeader("X-access-duplicate", String(abilities.has("image_duplicate")));
        await present(res, image);
      },
    ),
  );

  router.get(
    under(at, "/:id/embed"),
    handle(
      (caller, req) => embedImage(deps)(caller, idOf(req)),
      async (res, embed) => sendJson(res, 200, await presentEmbed(embed, deps.signer, deps.clock.now())),
    ),
  );

  router.get(
    under(at, "/:id/user"),
    handle(
      (caller, req) => getImageUser(deps)(caller, idOf(req)),
      // The family answers `{}` when it does not know.
      (res, userId) => sendJson(res, 200, userId === null ? {} : { user_id: userId }),
    ),
  );

  const update = handle(
    (caller, req) =>
      pipe(
        TE.fromEither(parseChanges(req.body)),
        TE.chainW((changes) => updateImage(deps)(caller, idOf(req), changes)),
      ),
    present,
  );
  router.put(under(at, "/:id"), update);
  router.patch(under(at, "/:id"), update);

  router.delete(
    under(at, "/:id"),
    write(
      deps,
      (caller, req, guard) => guard(req.body, (record) => deleteImage(deps)(caller, idOf(req), record?.(NO_CONTENT))),
      () => NO_CONTENT,
    ),
  );
  return router;
};
