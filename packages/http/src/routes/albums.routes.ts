import type { Request, Response, Router } from "express";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import {
  DEFAULT_PER_PAGE,
  invalidField,
  JsonObjectCodec,
  listAlbumImages,
  MAX_PAGE,
  registerUpload,
  unsupported,
  uploadImage,
  type ClientLocation,
  type FieldIssue,
  type Image,
  type JsonObject,
  type RegisterUploadInput,
  type UploadImageInput,
} from "@image-api/core";
import type { AppDeps } from "../deps.js";
import { bodyObject, failIfAny, nestFields, optionalNumber, optionalText } from "../parse/fields.js";
import { readMultipart, type MultipartForm } from "../parse/multipart.js";
import { presentImage } from "../present/image.presenter.js";
import { sendJson } from "../send.js";
import { handle, under } from "./run.js";
import { jsonAnswer, write } from "./write.js";

const albumOf = (req: Request): string => String(req.params.album_id);

const locationOf = (fields: JsonObject, issues: FieldIssue[]): ClientLocation | null => {
  const src = typeof fields.location === "object" && fields.location !== null && !Array.isArray(fields.location) ? fields.location : fields;
  const latitude = optionalNumber(src, "latitude", issues);
  const longitude = optionalNumber(src, "longitude", issues);
  const accuracy = optionalNumber(src, "accuracy", issues);
  if (latitude === undefined && longitude === undefined) return null;
  if (latitude === undefined || longitude === undefined) {
    issues.push({ field: "location", message: "send latitude and longitude together" });
    return null;
  }
  return { latitude, longitude, accuracy: accuracy ?? null };
};

/** Turns the multipart form into the upload command's input. */
export const uploadInput = (albumId: string, form: MultipartForm) =>
  pipe(
    nestFields(form.fields),
    E.chain((fields) => {
      if (!form.file) return E.left(invalidField("file", "is required (multipart field 'file')"));
      const issues: FieldIssue[] = [];
      const metadatas = fields.metadatas;
      if (metadatas !== undefined && (typeof metadatas !== "object" || metadatas === null || Array.isArray(metadatas)))
        issues.push({ field: "metadatas", message: "send as metadatas[key]=value" });
      const title = optionalText(fields, "title", issues);
      const description = optionalText(fields, "description", issues);
      const input: UploadImageInput = {
        albumId,
        bytes: form.file.bytes,
        filename: form.file.filename,
        ...(title === undefined ? {} : { title }),
        ...(description === undefined ? {} : { description }),
        metadatas: (metadatas as JsonObject | undefined) ?? {},
        location: locationOf(fields, issues),
      };
      return failIfAny(issues, input);
    }),
  );

/** Turns a form or JSON body carrying `cloudinary[...]` (a direct upload's response) into the register command's input. */
export const registerInput = (albumId: string, raw: unknown) => {
  const body = bodyObject(raw);
  const issues: FieldIssue[] = [];
  const upload = body.cloudinary;
  if (!JsonObjectCodec.is(upload)) issues.push({ field: "cloudinary", message: "send the upload response as cloudinary[key]=value" });
  const metadatas = body.metadatas;
  if (metadatas !== undefined && !JsonObjectCodec.is(metadatas)) issues.push({ field: "metadatas", message: "send as metadatas[key]=value" });
  const title = optionalText(body, "title", issues);
  const description = optionalText(body, "description", issues);
  const input: RegisterUploadInput = {
    albumId,
    upload: JsonObjectCodec.is(upload) ? upload : {},
    ...(title === undefined ? {} : { title }),
    ...(description === undefined ? {} : { description }),
    metadatas: JsonObjectCodec.is(metadatas) ? metadatas : {},
  };
  return failIfAny(issues, input);
};

/**
 * A paging number from the query: absent → `fallback`; one plain decimal → its value; anything else
 * (`page[]=1`, `page[x]=1`, `page=1&page=2`, `page=abc`) → NaN, which the command refuses with a 422.
 * The simple query parser keeps `page[]` as a key of its own, so bracketed keys are looked for too.
 */
export const pagingParam = (query: Request["query"], name: string, fallback: number): number => {
  const keys = Object.keys(query).filter((k) => k === name || k.startsWith(`${name}[`));
  if (keys.length === 0) return fallback;
  const v = query[name];
  return keys.length === 1 && typeof v === "string" && /^\d{1,9}$/.test(v) ? Number(v) : NaN;
};

/**
 * The `cursor` query parameter: absent → undefined; sent once as plain text → that text, which the
 * command decodes; bracketed or repeated → null.
 */
const cursorParam = (query: Request["query"]): string | undefined | null => {
  const keys = Object.keys(query).filter((k) => k === "cursor" || k.startsWith("cursor["));
  if (keys.length === 0) return undefined;
  const v = query.cursor;
  return keys.length === 1 && typeof v === "string" ? v : null;
};

/** The cursors of a listing's neighbouring pages (see listAlbumImages). */
export interface PageCursors {
  /** The page itself was reached by cursor: its neighbours are the cursors' pages, not numbered ones. */
  readonly keyset: boolean;
  readonly next?: string;
  readonly prev?: string;
}

/**
 * `keep`: query parameters every link repeats (a search's `q` and `version`). With `cursors`, the next
 * link is there when a next cursor is and carries it, after the page number it would have (for the
 * client's information); a prev cursor is carried the same way, else a numbered page reached by number
 * links the numbered page before it.
 */
export const linkHeader = (
  req: Request,
  page: number,
  perPage: number,
  total: number,
  keep: Readonly<Record<string, string>> = {},
  cursors?: PageCursors,
): string => {
  const last = Math.max(1, Math.ceil(total / perPage));
  const kept = Object.entries(keep)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}&`)
    .join("");
  // Cursors are base64url: nothing in them needs escaping.
  const url = (p: number, cursor?: string) => `<${req.baseUrl}${req.path}?${kept}page=${p}&per_page=${perPage}${cursor === undefined ? "" : `&cursor=${cursor}`}>`;
  const links = [`${url(1)}; rel="first"`, `${url(last)}; rel="last"`];
  if (cursors?.prev !== undefined) links.push(`${url(Math.max(1, page - 1), cursors.prev)}; rel="prev"`);
  else if (page > 1 && !cursors?.keyset) links.push(`${url(Math.min(page - 1, last))}; rel="prev"`);
  if (cursors === undefined ? page < last : cursors.next !== undefined) links.push(`${url(cursors ? Math.min(page + 1, MAX_PAGE) : page + 1, cursors?.next)}; rel="next"`);
  return links.join(", ");
};

/** Registers the albums routes on `router`, under `at`. */
export const albumsRouter = (deps: AppDeps, router: Router, at: string): Router => {
  const answerImage = (image: Image) => presentImage(image, deps.signer, deps.clock.now()).then((body) => jsonAnswer(body));

  const externalUploads = deps.externalUploads;
  router.post(
    under(at, "/:album_id/images"),
    write(
      deps,
      (caller, req, guard) =>
        req.is("multipart/form-data")
          ? pipe(
              () => readMultipart(req, deps.maxUploadBytes),
              TE.chainEitherKW((form) => uploadInput(albumOf(req), form)),
              // Claimed once the whole file is read, before its bytes are stored.
              TE.chainW((input) => guard(input, (record) => uploadImage(deps)(caller, input, record && (async (image) => record(await answerImage(image)))))),
            )
          : // A client that uploaded to the backend itself registers the result (form or JSON).
            externalUploads && bodyObject(req.body).cloudinary !== undefined
            ? pipe(
                TE.fromEither(registerInput(albumOf(req), req.body)),
                TE.chainW((input) =>
                  guard(req.body, (record) =>
                    registerUpload({ ...deps, uploads: externalUploads })(caller, input, record && (async (image) => record(await answerImage(image)))),
                  ),
                ),
              )
            : TE.left(unsupported("upload with multipart/form-data and the image in the 'file' field")),
      (_res, image) => answerImage(image),
    ),
  );

  router.get(
    under(at, "/:album_id/images"),
    handle(
      (caller, req) => {
        const page = pagingParam(req.query, "page", 1);
        const perPage = pagingParam(req.query, "per_page", DEFAULT_PER_PAGE);
        const cursor = cursorParam(req.query);
        if (cursor === null) return TE.left(invalidField("cursor", "must be sent once, as a string"));
        return pipe(
          listAlbumImages(deps)(caller, { albumId: albumOf(req), page, perPage, ...(cursor === undefined ? {} : { cursor }) }),
          TE.map((result) => ({ ...result, page, perPage, req, keyset: cursor !== undefined })),
        );
      },
      async (res: Response, { items, total, page, perPage, req, keyset, next, prev }) => {
        const now = deps.clock.now();
        const body = await Promise.all(items.map((image) => presentImage(image, deps.signer, now)));
        res.setHeader("X-Total-Count", String(total));
        res.setHeader("Link", linkHeader(req, page, perPage, total, {}, { keyset, next, prev }));
        sendJson(res, 200, body);
      },
    ),
  );
  return router;
};
