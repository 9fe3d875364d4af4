import { Router, type Request } from "express";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { deleteImage, duplicateImage, getImage, updateImage, type FieldIssue, type ImageChanges } from "@image-api/core";
import type { AppDeps } from "../deps.js";
import { bodyObject, failIfAny, optionalNumber, optionalText } from "../parse/fields.js";
import { presentImage } from "../present/image.presenter.js";
import { sendJson } from "../send.js";
import { handle } from "./run.js";

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

export const imagesRouter = (deps: AppDeps): Router => {
  const router = Router();
  const present = (res: Parameters<typeof sendJson>[0], image: Parameters<typeof presentImage>[0]) =>
    presentImage(image, deps.signer, deps.clock.now()).then((body) => sendJson(res, 200, body));

  router.post(
    "/:id/duplicate",
    handle((caller, req) => duplicateImage(deps)(caller, idOf(req)), present),
  );

  router.get(
    "/:id",
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

  const update = handle(
    (caller, req) =>
      pipe(
        TE.fromEither(parseChanges(req.body)),
        TE.chainW((changes) => updateImage(deps)(caller, idOf(req), changes)),
      ),
    present,
  );
  router.put("/:id", update);
  router.patch("/:id", update);

  router.delete(
    "/:id",
    handle(
      (caller, req) => deleteImage(deps)(caller, idOf(req)),
      (res) => {
        res.status(204).end();
      },
    ),
  );
  return router;
};
