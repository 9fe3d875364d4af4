import { createRequire } from "node:module";
import { ABILITIES, DEFAULT_PER_PAGE, DESCRIPTION_MAX, MAX_BATCH, MAX_PER_PAGE, ROTATIONS, TITLE_MAX } from "@image-api/core";
import type { Header, JsonType, OpenApiDocument, Operation, Parameter, Reference, Response, Schema } from "./spec-types.js";

/**
 * The OpenAPI 3.1 description of every route `createApp` serves, written by hand as a typed object:
 * the routes are plain Express handlers with hand-written parsing (form, JSON and multipart), so there
 * is no schema source to generate it from. It cannot drift unnoticed: the HTTP tests validate every
 * response they receive against it, and a unit test matches its paths with the app's Express routes.
 */

// src/openapi/ and dist/openapi/ are both two levels below the package root.
const VERSION = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;

const schema = (name: string): Reference => ({ $ref: `#/components/schemas/${name}` });
const header = (name: string): Reference => ({ $ref: `#/components/headers/${name}` });
const response = (name: string): Reference => ({ $ref: `#/components/responses/${name}` });
const parameter = (name: string): Reference => ({ $ref: `#/components/parameters/${name}` });

const fixed = (value: string, description: string): Header => ({ description, required: true, schema: { type: "string", const: value } });

/** Every header component; `required` says whether each response that lists it always carries it. */
const HEADERS = {
  "Cache-Control": fixed("no-cache, no-store", "API answers are never cached."),
  Pragma: fixed("no-cache", "HTTP/1.0 form of Cache-Control."),
  Expires: fixed("Fri, 01 Jan 1990 00:00:00 GMT", "A date in the past, so that no cache keeps the answer."),
  P3P: fixed('CP="NOI ADM DEV PSAi COM NAV OUR OTRo STP IND DEM"', "Compact privacy policy, as the family's API sends."),
  "X-Request-Id": {
    description: "The request's `X-Request-Id` when it is 1 to 128 of `A-Za-z0-9._:-`, a new UUID otherwise; also in the request log line.",
    required: true,
    schema: { type: "string", pattern: "^[A-Za-z0-9._:-]{1,128}$" },
  },
  "X-Runtime": {
    description: "Seconds the service spent on the request, with 6 decimals.",
    required: true,
    schema: { type: "string", pattern: "^[0-9]+\\.[0-9]{6}$", examples: ["0.024607"] },
  },
  "X-Frame-Options": fixed("DENY", "Never framed."),
  "X-Content-Type-Options": fixed("nosniff", "Browsers keep to the declared Content-Type."),
  "X-XSS-Protection": fixed("1; mode=block", "Legacy XSS filter setting."),
  "X-Download-Options": fixed("noopen", "Legacy Internet Explorer download setting."),
  "X-Permitted-Cross-Domain-Policies": fixed("none", "No Flash/PDF cross-domain policy."),
  "Referrer-Policy": fixed("origin-when-cross-origin, strict-origin-when-cross-origin", "Referrer policy, as the family's API sends."),
  "Access-Control-Allow-Origin": {
    description: "Only when IMAGE_API_CORS_ORIGINS is set and allows the request's `Origin` (`*` or a list); never otherwise.",
    required: false,
    schema: { type: "string" },
  },
  "Access-Control-Expose-Headers": {
    description: "Only with `Access-Control-Allow-Origin`: the headers a browser client may read (X-token, X-Total-Count, Link, X-message, …).",
    required: false,
    schema: { type: "string" },
  },
  Vary: { description: "Sent with every JSON body.", required: true, schema: { type: "string", pattern: "Accept-Encoding" } },
  "Content-Length": { description: "Size of the body in bytes.", required: true, schema: { type: "integer", minimum: 0 } },
  "X-token": {
    description:
      "The caller's token re-issued with a fresh `iat` and `exp` = `iat` + 4 h (never sooner than the caller's own `exp`), so an active client never has to sign in again. Byte-identical to the request's token when re-issued within the same second. Only on successful authenticated answers.",
    required: true,
    schema: { type: "string", pattern: "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$" },
  },
  "Idempotent-Replayed": {
    description: "On a replayed answer to a retry with the same `Idempotency-Key`: the status and body are those of the first request.",
    required: false,
    schema: { type: "string", const: "true" },
  },
  "X-message": {
    description: "The error message in printable ASCII (other characters become `?`), at most 200 characters.",
    required: true,
    schema: { type: "string", pattern: "^[\\x20-\\x7e]*$", maxLength: 200 },
  },
  "WWW-Authenticate": fixed('Token realm="Image API"', "The scheme to authenticate with."),
  "X-Total-Count": { description: "How many images the album holds (0 when the token lacks `image_list` on it).", required: true, schema: { type: "integer", minimum: 0 } },
  Link: {
    description:
      'RFC 8288 paging links (`rel="first"`, `"last"`, and `"prev"` / `"next"` where they exist), as path-absolute URLs with `page` and `per_page`. On an album listing the `next` link also carries a `cursor` (just past the page\'s last image), and so does `prev` on a page reached by cursor (just before its first); the `page` they carry then only numbers the page. Following `next` from the first page visits each image once: images added meanwhile do not shift the pages.',
    required: true,
    schema: { type: "string", pattern: '^<[^>]+>; rel="first", <[^>]+>; rel="last"' },
  },
  "X-access-crop": { description: "Whether the token may crop this image (`image_crop`).", required: true, schema: { type: "boolean" } },
  "X-access-rotate": { description: "Whether the token may rotate this image (`image_rotate`).", required: true, schema: { type: "boolean" } },
  "X-access-duplicate": { description: "Whether the token may duplicate this image (`image_duplicate`).", required: true, schema: { type: "boolean" } },
} as const satisfies Record<string, Header>;

type HeaderName = keyof typeof HEADERS;
type Headers = Record<string, Header | Reference>;

const refs = (...names: HeaderName[]): Headers => Object.fromEntries(names.map((n) => [n, header(n)]));

/** Security headers sent with every response the app writes, in the family's order. */
const SECURITY = ["X-Frame-Options", "X-Content-Type-Options", "X-XSS-Protection", "X-Download-Options", "X-Permitted-Cross-Domain-Policies", "Referrer-Policy"] as const;
const CORS = { "Access-Control-Allow-Origin": header("Access-Control-Allow-Origin"), "Access-Control-Expose-Headers": header("Access-Control-Expose-Headers") };
/** On every answer of the app: no caching, request id and timing, security headers, CORS when asked. */
const EVERY: Headers = { ...refs("Cache-Control", "Pragma", "Expires", "P3P", "X-Request-Id", "X-Runtime", ...SECURITY), ...CORS };
const JSON_BODY: Headers = { ...EVERY, ...refs("Vary", "Content-Length") };
/** A successful answer to a token-authenticated request. */
const AUTHENTICATED: Headers = { ...JSON_BODY, ...refs("X-token") };
const ERROR: Headers = { ...JSON_BODY, ...refs("X-message") };

/**
 * The headers of a 503, which server.ts also answers with while the database is still being opened,
 * before the app exists: the same headers (but CORS's, which need the app) and Retry-After.
 */
const startingAware = (headers: Headers): Headers => ({
  ...headers,
  "Retry-After": { description: "While starting: 1.", required: false, schema: { type: "integer", minimum: 0 } },
});
const STARTING_HEADERS = startingAware(JSON_BODY);

const json = (description: string, body: Schema | Reference, headers: Headers = JSON_BODY): Response => ({
  description,
  headers,
  content: { "application/json": { schema: body } },
});

/** The error schema with `error.code` fixed, as the status fixes it (see `errors/error.mapper.ts`). */
const errorWithCode = (code: string): Schema => ({
  allOf: [schema("Error"), { type: "object", properties: { error: { type: "object", properties: { code: { const: code } } } } }],
});
const errorResponse = (code: string, description: string, headers: Headers = ERROR): Response => json(description, errorWithCode(code), headers);

const ERROR_CODES = [
  "bad_request",
  "unauthenticated",
  "forbidden",
  "not_found",
  "conflict",
  "payload_too_large",
  "unsupported_media_type",
  "invalid_parameters",
  "internal_error",
  "service_unavailable",
] as const;

// ---------------------------------------------------------------- schemas

const nullable = (s: Schema & { readonly type: JsonType }): Schema => ({ ...s, type: [s.type, "null"] });
/** Rendition URLs: absolute here; the family's API prefixed some with `/assets/blank.jpg#`, a URI reference. */
const urlString: Schema = { type: "string", format: "uri-reference" };
const urlsOf = (names: readonly string[], description: string): Schema => ({
  type: "object",
  description,
  required: names,
  additionalProperties: false,
  properties: Object.fromEntries(names.map((n) => [n, urlString])),
});
/** `[latitude, longitude]` or null. */
const latLon = (description: string): Schema => ({
  type: ["array", "null"],
  description,
  prefixItems: [
    { type: "number", minimum: -90, maximum: 90 },
    { type: "number", minimum: -180, maximum: 180 },
  ],
  items: false,
  minItems: 2,
  maxItems: 2,
});
/** The family's timestamps: milliseconds and an explicit offset, e.g. `2019-04-08T19:38:52.108+00:00`. */
const timestamp = { type: "string" as const, format: "date-time", pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}[+-]\\d{2}:\\d{2}$" };
const uuid = { type: "string" as const, format: "uuid" };
const cropValue = (what: string): Schema => ({ type: "number", minimum: 0, description: `${what}, in pixels of the original (0.0 when the image is not cropped); always printed as a float (\`3.0\`).` });

/** The family's image JSON: these 35 keys, in this order. Mirrors `present/image.presenter.ts`. */
const IMAGE_PROPERTIES: Record<string, Schema> = {
    id: { ...uuid, description: "The image id." },
    public_id: { ...uuid, description: "Equal to `id`." },
    infos: {
      type: "object",
      description:
        "Facts about the stored original. For an upload through this service: `bytes`, `created_at`, `etag`, `format`, `height`, `resource_type`, `tags` ([album id]), `type`, `width`, `original_filename` and, when the upload sent one, `location {accuracy, latitude, longitude}`. For a registered Cloudinary upload: every posted `cloudinary[...]` field, as posted (strings).",
    },
    exifs: { type: "object", description: "EXIF data read from the original (empty when it has none)." },
    gps: latLon("The best known position: from EXIF, else the one the upload sent, else the one from the IP."),
    gps_ip: latLon("Position derived from the uploader's IP address."),
    gps_exifs: latLon("Position from the original's EXIF data."),
    gps_html: latLon("Position the uploading client sent (`latitude` / `longitude`)."),
    created_at: timestamp,
    updated_at: timestamp,
    taken_at: { ...nullable(timestamp), description: "From EXIF `DateTimeOriginal`, when present." },
    width: { type: "integer", minimum: 0, description: "Displayed width: the crop's, turned by the rotation." },
    height: { type: "integer", minimum: 0, description: "Displayed height: the crop's, turned by the rotation." },
    rotation: { type: "integer", enum: ROTATIONS, description: "Clockwise, in degrees." },
    crop_x: cropValue("Left edge of the crop"),
    crop_y: cropValue("Top edge of the crop"),
    crop_w: cropValue("Width of the crop"),
    crop_h: cropValue("Height of the crop"),
    metadatas: { type: "object", description: "Free-form data the client attached (`metadatas[key]=value`)." },
    original_url: { type: "string", format: "uri", description: "Signed URL of the untouched original, as an attachment." },
    original_width: { type: "integer", minimum: 0 },
    original_height: { type: "integer", minimum: 0 },
    external_urls: urlsOf(["fill100", "fit2000", "mini", "large", "full"], "Signed rendition URLs."),
    filename: { type: "string", description: "The uploaded file's name without its extension." },
    format: { type: "string", description: "Format of the original, e.g. `png`, `jpg`." },
    title: { type: ["string", "null"], maxLength: TITLE_MAX },
    description: { type: ["string", "null"], maxLength: DESCRIPTION_MAX },
    page: { type: "integer", const: 1, description: "Always 1 (a per-image field of the family's API, not paging)." },
    group_id: { ...nullable(uuid), description: "For a duplicate: the id of the image it was copied from (the family's group). Null otherwise." },
    color: { type: "string", description: "Predominant colour, e.g. `#7D7D7D`." },
    size: { type: "integer", minimum: 0, description: "Size of the original in bytes (the family's API also printed a string or null here; this service always prints an integer)." },
    processed: { type: "boolean" },
    processing_error: { type: ["string", "null"] },
    album_id: { type: "string", description: "The album holding the image." },
    thumbnails: urlsOf(["original", "full_no_sharinpix", "full", "large", "mini"], "Signed thumbnail URLs (attachments)."),
};

const IMAGE: Schema = {
  type: "object",
  description: "An image, as every route that answers with one prints it (35 keys, in this order).",
  additionalProperties: false,
  // Every key is always printed, null or not: `required` is the property list itself, so the two cannot disagree.
  required: Object.keys(IMAGE_PROPERTIES),
  properties: IMAGE_PROPERTIES,
};

const ERROR_BODY: Schema = {
  type: "object",
  additionalProperties: false,
  required: ["code", "message"],
  properties: {
    code: { type: "string", enum: ERROR_CODES, description: "Fixed by the status: one code per status." },
    message: { type: "string" },
    details: {
      type: "array",
      description: "With `invalid_parameters`: one entry per offending field.",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["field", "message"],
        properties: { field: { type: "string" }, message: { type: "string" } },
      },
    },
  },
};

const ERROR_SCHEMA: Schema = {
  type: "object",
  description: "Every error the app answers with. `X-message` repeats `message` in ASCII.",
  additionalProperties: false,
  required: ["error"],
  properties: { error: schema("ErrorBody") },
};

/** What every route answers while the service is still opening its database (server.ts), before the app takes over. */
const STARTING: Schema = {
  type: "object",
  additionalProperties: false,
  required: ["status", "error"],
  properties: { status: { const: "starting" }, error: schema("ErrorBody") },
};

const up = (...values: string[]): Schema => ({ type: "string", enum: values });

// ---------------------------------------------------------------- request bodies

const text = (max: number, what: string): Schema => ({ type: ["string", "null"], maxLength: max, description: `${what}. Empty or blank clears it; JSON \`null\` clears it too.` });
const UPDATE_FIELDS: Record<string, Schema> = {
  title: text(TITLE_MAX, "New title (needs `image_caption`)"),
  description: text(DESCRIPTION_MAX, "New description (needs `image_caption`)"),
  rotation: { type: "integer", enum: ROTATIONS, description: "Absolute rotation, clockwise (needs `image_rotate` when it changes)." },
  crop_x: { type: "number", minimum: 0, description: "Crop rectangle in pixels of the original; send all four crop fields together (needs `image_crop`)." },
  crop_y: { type: "number", minimum: 0 },
  crop_w: { type: "number", minimum: 0 },
  crop_h: { type: "number", minimum: 0 },
};
const UPDATE_BODY: Schema = { type: "object", additionalProperties: false, properties: UPDATE_FIELDS };

const UPLOAD_FORM: Schema = {
  type: "object",
  required: ["file"],
  properties: {
    file: { type: "string", format: "binary", contentMediaType: "application/octet-stream", description: "The image file (JPEG, PNG, GIF, WebP, …). Its name becomes `filename`." },
    title: { type: "string", maxLength: TITLE_MAX },
    description: { type: "string", maxLength: DESCRIPTION_MAX },
    metadatas: {
      type: "object",
      description: "Free-form data, sent as `metadatas[key]=value` (nested: `metadatas[a][b]=value`).",
      additionalProperties: true,
    },
    latitude: { type: "number", minimum: -90, maximum: 90, description: "Where the client was; sent together with `longitude`. Also accepted as `location[latitude]`." },
    longitude: { type: "number", minimum: -180, maximum: 180 },
    accuracy: { type: "number", minimum: 0, description: "Accuracy of the position, in metres." },
  },
};

const REGISTER_BODY: Schema = {
  type: "object",
  required: ["cloudinary"],
  description: "Only with Cloudinary storage: registers an upload the client made to Cloudinary itself, with its signed upload response.",
  properties: {
    cloudinary: { type: "object", description: "The upload response, as `cloudinary[key]=value` (its `signature` is verified)." },
    metadatas: { type: "object", description: "As `metadatas[key]=value`." },
    title: { type: "string", maxLength: TITLE_MAX },
    description: { type: "string", maxLength: DESCRIPTION_MAX },
  },
};

const deepObject = { style: "deepObject", explode: true } as const;

// ---------------------------------------------------------------- operations

const API_AUTH = [{ token: [] }, { bearer: [] }] as const;
const PUBLIC = [] as const;

const DUPLICATE_BODY: Schema = {
  type: "object",
  properties: {
    album_id: {
      type: "string",
      pattern: "^[A-Za-z0-9_.:-]{0,128}$",
      description: "Another album of the tenant for the copy. Absent or empty (the seed's empty body, a form's blank field): the source's album.",
      // Without it "Try it out" fills in a made-up album matching the pattern, which the token cannot write to.
      examples: [""],
    },
  },
};
const IDS: Schema = { type: "array", items: uuid };
const IDS_BODY: Schema = {
  type: "object",
  required: ["image_ids"],
  properties: { image_ids: { type: "array", maxItems: MAX_BATCH, items: { type: "string" }, description: "Form: `image_ids[]=<id>` once per image." } },
};
const MOVES_BODY: Schema = {
  type: "object",
  required: ["move_operations"],
  properties: {
    move_operations: {
      type: "object",
      maxProperties: MAX_BATCH,
      additionalProperties: { type: "string" },
      description: "Form: `move_operations[<image_id>]=<album_id>` once per image.",
    },
  },
};

/** Failures any `/api/v1` route can answer with, whatever its command. */
const API_ERRORS = {
  "400": response("BadRequest"),
  "401": response("Unauthenticated"),
  "413": response("PayloadTooLarge"),
  "415": response("UnsupportedMediaType"),
  "500": response("InternalError"),
  "503": response("ServiceUnavailable"),
};

/** What a write that answers with an image may answer. */
const imageWriteAnswers = (description: string) => ({
  "200": imageAnswer(description),
  ...API_ERRORS,
  "403": response("Forbidden"),
  "404": response("NotFound"),
  "409": response("Conflict"),
  "422": response("InvalidParameters"),
});

const imageAnswer = (description: string): Response => json(description, schema("Image"), AUTHENTICATED);

const update = (operationId: string, summary: string): Operation => ({
  operationId,
  summary,
  tags: ["images"],
  description:
    "Changes the caption (`title`, `description`), the rotation or the crop. Each aspect that changes needs its ability on the image's album (`image_caption`, `image_rotate`, `image_crop`); a field re-sent with its current value needs none of them beyond one of the three, as the family's crop call re-sends `rotation=0`.",
  parameters: [parameter("ImageId")],
  requestBody: {
    required: true,
    content: {
      "application/x-www-form-urlencoded": { schema: UPDATE_BODY },
      "application/json": { schema: UPDATE_BODY },
    },
  },
  responses: {
    ...imageWriteAnswers("The changed image."),
  },
  security: API_AUTH,
});

const health = (status: Schema): Schema => ({ type: "object", additionalProperties: false, required: ["status"], properties: { status } });

const MEDIA_PARAMETERS: Parameter[] = [
  {
    name: "path",
    in: "path",
    required: true,
    "x-multi-segment": true,
    description: "`<variant>/<rendition>/<blob key>/v<version>/<filename>.<format>`, exactly as in the signed URL (it spans several segments).",
    schema: { type: "string" },
  },
  { name: "exp", in: "query", required: true, description: "Expiry, in seconds since the epoch.", schema: { type: "integer", minimum: 0 } },
  { name: "sig", in: "query", required: true, description: "HMAC-SHA256 of the path and `?exp=…`, base64url.", schema: { type: "string", pattern: "^[A-Za-z0-9_-]{43}$" } },
];

const mediaOk = (description: string): Response => ({
  description,
  headers: {
    "Cache-Control": { description: "Signed URLs name immutable bytes, so they may be cached until they expire.", required: true, schema: { type: "string", const: "private, max-age=3600" } },
    ...refs("P3P", "X-Request-Id", "X-Runtime", ...SECURITY, "Content-Length"),
    ...CORS,
    "Content-Disposition": {
      description: "For attachment renditions (`original_url`, `thumbnails.*`): RFC 6266 `attachment` with an ASCII `filename` and the exact name in `filename*`.",
      required: false,
      schema: { type: "string", pattern: "^attachment; filename=\"[^\"]*\"; filename\\*=UTF-8''" },
    },
  },
  content: { "image/*": { schema: { type: "string", contentMediaType: "image/*" } } },
});

const MEDIA_ERRORS = {
  "403": response("Forbidden"),
  "404": response("NotFound"),
  "415": response("UnsupportedMediaType"),
  "500": response("InternalError"),
  "503": response("ServiceUnavailable"),
};

/** Served by `openapi/docs.routes.ts` from swagger-ui-dist, plus this service's own init script. */
export const DOCS_ASSETS = ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png", "init.js"] as const;

export interface DocumentOptions {
  /** IMAGE_API_PUBLIC_URL: where clients reach the service; the document's only server. */
  readonly publicUrl: string;
}

const baseDocument = ({ publicUrl }: DocumentOptions): OpenApiDocument => ({
  openapi: "3.1.0",
  info: {
    title: "Image API",
    version: VERSION,
    license: { name: "MIT", identifier: "MIT" },
    description: [
      "Image albums: upload, read, list, caption, rotate, crop, duplicate and delete images, and deliver them through signed URLs.",
      "",
      'Authenticate with the family\'s scheme, `Authorization: Token token="<jwt>"`, or with `Authorization: Bearer <jwt>`. The JWT (HS256) grants abilities per album: `{"abilities": {"<album_id>": {"Access": {"image_duplicate": true}}}}`. Abilities: ' +
        ABILITIES.map((a) => `\`${a}\``).join(", ") +
        ". Every successful authenticated answer carries the token re-issued in `X-token`.",
      "",
      "Bodies may be `application/x-www-form-urlencoded` (as the family's clients send, even when empty) or JSON; uploads are `multipart/form-data`. Request bodies are limited to 1 MB, uploads to IMAGE_API_MAX_UPLOAD_BYTES.",
      "",
      "Any path or method not listed here is answered `404` with the `not_found` error (under `/api/v1` the token is checked first, so without a valid one the answer is `401`). With IMAGE_API_CORS_ORIGINS set, browser clients from those origins get CORS headers, including preflight (`OPTIONS`) answers; without it, none.",
    ].join("\n"),
  },
  servers: [{ url: publicUrl, description: "The configured public URL (IMAGE_API_PUBLIC_URL)." }],
  tags: [
    { name: "images", description: "One image, by id." },
    { name: "albums", description: "Uploading to and listing an album." },
    { name: "search", description: "Finding images across albums by words." },
    { name: "media", description: "Signed delivery URLs (no token: the signature is the authorisation)." },
    { name: "operations", description: "Probes and metrics." },
    { name: "docs", description: "This document and its interactive page." },
  ],
  paths: {
    "/api/v1/albums/{album_id}/images": {
      parameters: [parameter("AlbumId")],
      post: {
        operationId: "uploadImage",
        summary: "Upload an image to an album",
        tags: ["albums"],
        description:
          "Needs `image_upload` on the album. Send the file as `multipart/form-data` (field `file`). With Cloudinary storage a client that uploaded to Cloudinary itself registers the result instead, as a form or JSON body with `cloudinary[...]`. The family's clients post to the same path with a trailing slash, which is accepted.",
        requestBody: {
          required: true,
          content: {
            "multipart/form-data": { schema: UPLOAD_FORM, encoding: { file: { contentType: "image/*" }, metadatas: deepObject } },
            "application/x-www-form-urlencoded": { schema: REGISTER_BODY, encoding: { cloudinary: deepObject, metadatas: deepObject } },
            "application/json": { schema: REGISTER_BODY },
          },
        },
        responses: {
          ...imageWriteAnswers("The new image."),
        },
        security: API_AUTH,
      },
      get: {
        operationId: "listAlbumImages",
        summary: "List an album's images, newest first",
        tags: ["albums"],
        description:
          "Needs `image_list` on the album; without it the album looks empty (200, `[]`), as in the family's API. Pages by `page` and `per_page`, or from a `cursor` (the `next` and `prev` links carry one), which reads a deep page as cheaply as the first; `X-Total-Count` is the album's count in the same snapshot either way.",
        parameters: [parameter("Page"), parameter("PerPage"), parameter("Cursor")],
        responses: {
          "200": json("A page of images (a bare array, as in the family's API).", { type: "array", items: schema("Image") }, { ...AUTHENTICATED, ...refs("X-Total-Count", "Link") }),
          ...API_ERRORS,
          "404": response("NotFound"),
          "422": response("InvalidParameters"),
        },
        security: API_AUTH,
      },
    },
    "/api/v1/images/{id}": {
      parameters: [parameter("ImageId")],
      get: {
        operationId: "getImage",
        summary: "Read an image",
        tags: ["images"],
        description: "Needs `image_list` on the image's album. The `X-access-*` headers tell what else the token may do to it.",
        responses: {
          "200": json("The image.", schema("Image"), { ...refs("X-access-crop", "X-access-rotate", "X-access-duplicate"), ...AUTHENTICATED }),
          ...API_ERRORS,
          "403": response("Forbidden"),
          "404": response("NotFound"),
        },
        security: API_AUTH,
      },
      put: update("updateImage", "Caption, rotate or crop an image"),
      patch: update("patchImage", "Caption, rotate or crop an image (same as PUT)"),
      delete: {
        operationId: "deleteImage",
        summary: "Delete an image",
        tags: ["images"],
        description: "Needs `image_delete` on the image's album. The stored bytes go when no duplicate shares them any more.",
        responses: {
          "204": { description: "Deleted. No body, so no Content-Type, Vary or Content-Length.", headers: { ...EVERY, ...refs("X-token") } },
          ...API_ERRORS,
          "403": response("Forbidden"),
          "404": response("NotFound"),
        },
        security: API_AUTH,
      },
    },
    "/api/v1/images/{id}/duplicate": {
      parameters: [parameter("ImageId")],
      post: {
        operationId: "duplicateImage",
        summary: "Duplicate an image",
        tags: ["images"],
        description:
          "Needs `image_duplicate` on the image's album. The copy gets a new `id`, stays in the same album unless `album_id` names another one of the tenant (which also needs `image_upload` there; `infos.tags` then names the new album), and its `group_id` is the source's id (or the source's own `group_id` when the source is itself a copy). It shares the source's stored bytes, so duplicating costs the same whatever the image's size. The family's clients send `Content-Type: application/x-www-form-urlencoded` with an empty body; no body is needed.",
        requestBody: {
          required: false,
          content: {
            "application/x-www-form-urlencoded": { schema: DUPLICATE_BODY },
            "application/json": { schema: DUPLICATE_BODY },
          },
        },
        responses: {
          "200": imageAnswer("The new copy."),
          ...API_ERRORS,
          "403": response("Forbidden"),
          "404": response("NotFound"),
          "409": response("Conflict"),
          "422": response("InvalidParameters"),
        },
        security: API_AUTH,
      },
    },
    "/api/v1/images/{id}/embed": {
      parameters: [parameter("ImageId")],
      get: {
        operationId: "embedImage",
        summary: "HTML to embed an image in a page",
        tags: ["images"],
        description:
          "Needs `image_list` on the image's album. `html` is one `<img>`: `src` is `thumbnails.full`, `srcset` offers the `mini`, `large` and `full` renditions with the width each is delivered at (a width reached by two of them listed once), `width` and `height` are the full rendition's, `alt` is the title (empty without one), and it loads lazily. Every attribute value is HTML-escaped. The URLs are signed like the image JSON's, so they expire with them.",
        responses: {
          "200": json("The markup.", schema("Embed"), AUTHENTICATED),
          ...API_ERRORS,
          "403": response("Forbidden"),
          "404": response("NotFound"),
        },
        security: API_AUTH,
      },
    },
    "/api/v1/images/{id}/user": {
      parameters: [parameter("ImageId")],
      get: {
        operationId: "getImageUser",
        summary: "Who created an image",
        tags: ["images"],
        description:
          "Needs `image_list` on the image's album. `user_id` is the `user_id` claim of the token that uploaded the image (or, for a copy, duplicated it); the body is `{}`, as in the family's API, when that is not known (a token without `user_id`, or an image stored before it was recorded).",
        responses: {
          "200": json("The creator, or `{}`.", schema("ImageUser"), AUTHENTICATED),
          ...API_ERRORS,
          "403": response("Forbidden"),
          "404": response("NotFound"),
        },
        security: API_AUTH,
      },
    },
    "/api/v1/images": {
      delete: {
        operationId: "deleteImages",
        summary: "Delete several images",
        tags: ["images"],
        description: `All or nothing, in one transaction: each image needs \`image_delete\` on its own album (the family accepted \`image_list\`); one forbidden id refuses the whole request with 403. Unknown ids are skipped. At most ${MAX_BATCH} ids.`,
        requestBody: {
          required: true,
          content: {
            "application/x-www-form-urlencoded": { schema: IDS_BODY },
            "application/json": { schema: IDS_BODY },
          },
        },
        responses: {
          "200": json("The deleted ids, in the reverse of the order sent.", IDS, AUTHENTICATED),
          ...API_ERRORS,
          "403": response("Forbidden"),
          "422": response("InvalidParameters"),
        },
        security: API_AUTH,
      },
    },
    "/api/v1/search": {
      get: {
        operationId: "searchImages",
        summary: "Search images by words, across albums",
        tags: ["search"],
        description:
          "Finds images in the token's scope, newest first: with a user token the albums where it holds `image_list` (a token without abilities finds nothing, `[]`: the family answered it with results), with a search token its `q` claim (`*` is the whole tenant, otherwise one album). Never outside the token's tenant. The query language is a subset of Elasticsearch's `query_string`: `*`, words (all must match), `\"quoted phrases\"`, `OR`, `AND`, `NOT` / `-word`, parentheses, and `field:value` for `title`, `description`, `filename`, `album_id`, `tag`, `format`, `metadatas.<key>`. Words match whole, ignoring case and accents. `version=2` also matches any part of a filename. A query that does not parse is answered 422 naming the position.",
        parameters: [
          { name: "q", in: "query", required: false, description: "The query; may be empty with a search token, which then uses its own `q`.", schema: { type: "string", maxLength: 1000 } },
          { name: "version", in: "query", required: false, description: "`2` also matches substrings of filenames.", schema: { type: "string", enum: ["1", "2"] } },
          parameter("Page"),
          parameter("PerPage"),
        ],
        responses: {
          "200": json("A page of matching images (a bare array).", { type: "array", items: schema("Image") }, { ...AUTHENTICATED, ...refs("X-Total-Count", "Link") }),
          ...API_ERRORS,
          "422": response("InvalidParameters"),
        },
        security: API_AUTH,
      },
    },
    "/api/v1/images/move": {
      post: {
        operationId: "moveImages",
        summary: "Move images to other albums",
        tags: ["images"],
        description: `All or nothing, in one transaction: each image needs \`image_delete\` on the album it leaves and \`image_upload\` on the one it joins (the family accepted \`image_list\`). An image keeps its id, bytes and URLs; \`album_id\` and \`infos.tags\` change. Unknown ids are skipped. At most ${MAX_BATCH} moves.`,
        requestBody: {
          required: true,
          content: {
            "application/x-www-form-urlencoded": { schema: MOVES_BODY },
            "application/json": { schema: MOVES_BODY },
          },
        },
        responses: {
          "200": json("The moved ids, in the reverse of the order sent.", IDS, AUTHENTICATED),
          ...API_ERRORS,
          "403": response("Forbidden"),
          "422": response("InvalidParameters"),
        },
        security: API_AUTH,
      },
    },
    "/media/{path}": {
      parameters: MEDIA_PARAMETERS,
      get: {
        operationId: "deliverMedia",
        summary: "Deliver an original or a rendition by its signed URL",
        tags: ["media"],
        description: "The URLs come from an image's `original_url`, `thumbnails` and `external_urls`; they expire. Renditions are rendered once and cached.",
        responses: { "200": mediaOk("The bytes."), ...MEDIA_ERRORS },
        security: PUBLIC,
      },
      head: {
        operationId: "deliverMediaHead",
        summary: "Headers of a signed delivery URL",
        tags: ["media"],
        responses: { "200": mediaOk("The headers a GET would answer with; no body."), ...MEDIA_ERRORS },
        security: PUBLIC,
      },
    },
    "/livez": {
      get: {
        operationId: "livez",
        summary: "Liveness: the process answers",
        tags: ["operations"],
        description: "No I/O, so a slow database never gets the process restarted. Also answered while starting.",
        responses: { "200": json("Alive.", health({ const: "ok" })), "500": response("InternalError") },
        security: PUBLIC,
      },
    },
    "/readyz": {
      get: {
        operationId: "readyz",
        summary: "Readiness: started, not stopping, database and storage reachable",
        tags: ["operations"],
        responses: {
          "200": json("Ready for traffic.", schema("Readiness")),
          "503": json("Starting, stopping, or a backend is unreachable.", schema("Readiness"), STARTING_HEADERS),
          "500": response("InternalError"),
        },
        security: PUBLIC,
      },
    },
    "/healthz": {
      get: {
        operationId: "healthz",
        summary: "Health: the database answers",
        tags: ["operations"],
        responses: {
          "200": json("The database answers.", health({ const: "ok" })),
          "503": json(
            "The database does not answer.",
            {
              anyOf: [
                { type: "object", additionalProperties: false, required: ["status", "database"], properties: { status: { const: "unavailable" }, database: { const: "down" } } },
                schema("Starting"),
              ],
            },
            STARTING_HEADERS,
          ),
          "500": response("InternalError"),
        },
        security: PUBLIC,
      },
    },
    "/metrics": {
      get: {
        operationId: "metrics",
        summary: "Prometheus metrics",
        tags: ["operations"],
        description: "Request durations by route, requests in flight, blob store operations, renditions, sweeps and the database pool. Needs `Authorization: Bearer <IMAGE_API_METRICS_TOKEN>` when that is configured.",
        responses: {
          "200": {
            description: "Prometheus text exposition format 0.0.4.",
            headers: { ...EVERY, ...refs("Content-Length") },
            content: { "text/plain": { schema: { type: "string" } } },
          },
          "401": response("Unauthenticated"),
          "500": response("InternalError"),
        },
        security: [{}, { metricsToken: [] }],
      },
    },
    "/openapi.json": {
      get: {
        operationId: "openapi",
        summary: "This document",
        tags: ["docs"],
        responses: {
          "200": json("The OpenAPI 3.1 document.", {
            type: "object",
            required: ["openapi", "info", "paths"],
            properties: { openapi: { const: "3.1.0" }, info: { type: "object" }, paths: { type: "object" } },
          }),
          "500": response("InternalError"),
        },
        security: PUBLIC,
      },
    },
    "/docs": {
      get: {
        operationId: "docs",
        summary: "Interactive documentation (Swagger UI)",
        tags: ["docs"],
        description: "Served from the service itself (swagger-ui-dist), no CDN.",
        responses: {
          "200": {
            description: "The page.",
            headers: {
              ...EVERY,
              ...refs("Content-Length"),
              "Content-Security-Policy": { description: "Scripts and styles from the service only; no inline script.", required: true, schema: { type: "string", pattern: "script-src 'self'" } },
            },
            content: { "text/html": { schema: { type: "string" } } },
          },
          "301": {
            description: "`/docs/` redirects to `/docs`, so that the page's relative links resolve.",
            headers: { ...EVERY, Location: { required: true, schema: { type: "string", const: "../docs" } } },
          },
          "500": response("InternalError"),
        },
        security: PUBLIC,
      },
    },
    "/docs/{asset}": {
      get: {
        operationId: "docsAsset",
        summary: "A script, stylesheet or icon of the docs page",
        tags: ["docs"],
        parameters: [{ name: "asset", in: "path", required: true, schema: { type: "string", enum: DOCS_ASSETS } }],
        responses: {
          "200": {
            description: "The file. It changes only with the installed swagger-ui-dist, so it may be cached for an hour.",
            headers: {
              "Cache-Control": { required: true, schema: { type: "string", const: "public, max-age=3600" } },
              ...refs("P3P", "X-Request-Id", "X-Runtime", ...SECURITY, "Content-Length"),
              ...CORS,
              ETag: { description: "swagger-ui-dist files only.", required: false, schema: { type: "string" } },
              "Last-Modified": { description: "swagger-ui-dist files only.", required: false, schema: { type: "string" } },
              "Accept-Ranges": { description: "swagger-ui-dist files only.", required: false, schema: { type: "string", const: "bytes" } },
            },
            content: {
              "text/css": { schema: { type: "string" } },
              "text/javascript": { schema: { type: "string" } },
              "application/javascript": { schema: { type: "string" } },
              "image/png": { schema: { type: "string", contentMediaType: "image/png" } },
            },
          },
          "404": response("NotFound"),
          "500": response("InternalError"),
        },
        security: PUBLIC,
      },
    },
  },
  components: {
    schemas: {
      Image: IMAGE,
      Error: ERROR_SCHEMA,
      ErrorBody: ERROR_BODY,
      Starting: STARTING,
      Readiness: {
        type: "object",
        additionalProperties: false,
        required: ["status"],
        description: "`ready` (200); `starting`, `stopping` or `unavailable` (503). `checks` when the backends were asked.",
        properties: {
          status: up("ready", "unavailable", "starting", "stopping"),
          checks: {
            type: "object",
            additionalProperties: false,
            required: ["database", "storage"],
            properties: { database: up("up", "down"), storage: { ...up("up", "down", "not probed"), description: "`not probed` with Cloudinary, whose lookups are rate-limited." } },
          },
          error: schema("ErrorBody"),
        },
      },
      RegisterUpload: REGISTER_BODY,
      ImageChanges: UPDATE_BODY,
      Embed: {
        type: "object",
        additionalProperties: false,
        required: ["html"],
        properties: { html: { type: "string", pattern: "^<img [^<>]*>$", description: "One `<img>` element, nothing else." } },
      },
      ImageUser: {
        type: "object",
        additionalProperties: false,
        properties: { user_id: { type: "string", description: "The creator's `user_id`; absent when not known." } },
      },
    },
    responses: {
      BadRequest: errorResponse("bad_request", "The body could not be parsed (malformed form or JSON)."),
      Unauthenticated: errorResponse("unauthenticated", "No token, a malformed `Authorization` header, or a token that is invalid, forged or expired.", {
        ...ERROR,
        ...refs("WWW-Authenticate"),
      }),
      Forbidden: errorResponse("forbidden", "The token lacks the ability on the image's album, or (media) the URL's signature is invalid or expired."),
      NotFound: errorResponse("not_found", "No such image or album (an id that is not a UUID is not found either), or no such route."),
      Conflict: errorResponse("conflict", "The image changed or went away concurrently; retry."),
      PayloadTooLarge: errorResponse("payload_too_large", "The body (1 MB) or the upload (IMAGE_API_MAX_UPLOAD_BYTES) is too large."),
      UnsupportedMediaType: errorResponse("unsupported_media_type", "Not an image this service can read, or a body encoding it does not accept."),
      InvalidParameters: errorResponse("invalid_parameters", "A field is missing or invalid; `details` lists each one."),
      InternalError: errorResponse("internal_error", "An unexpected failure (logged with its stack); the message says nothing more."),
      ServiceUnavailable: json(
        "The database or storage is unreachable: retry later. While the service is starting, every route but /livez answers this with `Retry-After: 1`, the family's headers and no CORS headers.",
        { anyOf: [errorWithCode("service_unavailable"), schema("Starting")] },
        startingAware(ERROR),
      ),
    },
    parameters: {
      ImageId: { name: "id", in: "path", required: true, description: "The image id (a UUID; anything else is answered 404).", schema: { type: "string", examples: ["4c4401c9-9cb1-4c50-b15e-b171de99af5e"] } },
      AlbumId: {
        name: "album_id",
        in: "path",
        required: true,
        description: "The album id, chosen by the client's system (e.g. a Salesforce id); 1 to 128 of `A-Za-z0-9_.:-`.",
        schema: { type: "string", pattern: "^[A-Za-z0-9_.:-]{1,128}$", examples: ["00100000123BB124"] },
      },
      Page: { name: "page", in: "query", required: false, description: "1-based page number.", schema: { type: "integer", minimum: 1, maximum: 1_000_000, default: 1 } },
      PerPage: { name: "per_page", in: "query", required: false, description: "Images per page.", schema: { type: "integer", minimum: 1, maximum: MAX_PER_PAGE, default: DEFAULT_PER_PAGE } },
      Cursor: {
        name: "cursor",
        in: "query",
        required: false,
        description:
          "Where the page starts, as the `next` or `prev` link of an earlier page gave it: just past that page's last image (`next`) or just before its first (`prev`). A page reached by cursor costs what the first page costs however deep it is, and images added or removed since on the other side of it do not shift it; `page` then only numbers it in the links. Opaque: pass it on unchanged. It holds a position and nothing else, so it is no secret, and it only ever pages the album and tenant of the request: a cursor of another album starts at the same position in this one. Anything other than a cursor this service wrote is refused (422, field `cursor`).",
        schema: { type: "string", pattern: "^[A-Za-z0-9_-]+$", maxLength: 96 },
      },
      IdempotencyKey: {
        name: "Idempotency-Key",
        in: "header",
        required: false,
        description:
          "1 to 255 printable ASCII characters chosen by the client, scoped to the tenant and the token's `user_id`. The first request's status and body are stored with its effect, in the same transaction; for 24 h a retry with the same key, method, path and body gets them back with `Idempotent-Replayed: true` and changes nothing. The same key with another request is refused (422); a retry while the first still runs is refused (409). A request that fails stores nothing, so its retry runs again.",
        schema: { type: "string", pattern: "^[\\x20-\\x7e]{1,255}$" },
      },
    },
    headers: HEADERS,
    securitySchemes: {
      token: {
        type: "apiKey",
        in: "header",
        name: "Authorization",
        description:
          'The family\'s scheme: the whole header value is `Token token="<jwt>"` (the quotes may be left out). In the docs page\'s Authorize dialog, enter that whole value.',
      },
      bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "The same JWT as `Authorization: Bearer <jwt>`." },
      metricsToken: { type: "http", scheme: "bearer", description: "IMAGE_API_METRICS_TOKEN, for `/metrics` when it is configured." },
    },
  },
});

/** The writes a client may retry safely with an `Idempotency-Key`. */
export const IDEMPOTENT_OPERATIONS = new Set(["uploadImage", "duplicateImage", "deleteImage", "deleteImages", "moveImages"]);

/** Every idempotent write takes the key, may answer its 409 and 422, and marks a replayed answer. */
const withIdempotencyKeys = (doc: OpenApiDocument): OpenApiDocument => {
  for (const item of Object.values(doc.paths) as Record<string, unknown>[])
    for (const op of Object.values(item) as Operation[]) {
      if (typeof op !== "object" || op === null || !IDEMPOTENT_OPERATIONS.has(op.operationId)) continue;
      const mutable = op as { parameters?: (Parameter | Reference)[]; responses: Record<string, Response | Reference> };
      mutable.parameters = [...(mutable.parameters ?? []), parameter("IdempotencyKey")];
      mutable.responses["409"] ??= response("Conflict");
      mutable.responses["422"] ??= response("InvalidParameters");
      for (const [status, answer] of Object.entries(mutable.responses))
        if (status.startsWith("2") && !("$ref" in answer)) mutable.responses[status] = { ...answer, headers: { ...answer.headers, ...refs("Idempotent-Replayed") } };
    }
  return doc;
};

export const openApiDocument = (options: DocumentOptions): OpenApiDocument => withIdempotencyKeys(baseDocument(options));
