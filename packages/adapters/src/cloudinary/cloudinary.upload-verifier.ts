import {
  BlobKey,
  invalid,
  JsonObjectCodec,
  type ExternalAsset,
  type ExternalUploadVerifier,
  type FieldIssue,
  type Forbidden,
  type Invalid,
  type JsonObject,
  type JsonValue,
} from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { UPLOAD_FORMATS, mediaTypeOf } from "../shared/media-types.js";
import { exifDate } from "../sharp/exif.parser.js";
import type { SignatureAlgorithm } from "./cloudinary.signature.js";
import { verifyUploadSignature } from "./cloudinary.upload-signature.js";

export interface CloudinaryUploadVerifierOptions {
  readonly apiSecret: string;
  /** The account's signature algorithm; Cloudinary defaults to SHA-1. */
  readonly signatureAlgorithm?: SignatureAlgorithm;
}

/** The formats the API accepts, by Cloudinary's names for them (it calls JPEG files jpg). */
const FORMATS: readonly string[] = ["jpg", ...UPLOAD_FORMATS];

const HEX_COLOR = /^#[0-9A-Fa-f]{6}$/;
/** Forms send every value as a string, JSON bodies may send numbers. */
const scalar = (v: JsonValue | undefined): string | undefined =>
  typeof v === "string" ? v : typeof v === "number" && Number.isFinite(v) ? String(v) : undefined;

const wholeNumber = (v: JsonValue | undefined): number | undefined => {
  const s = scalar(v);
  return s !== undefined && /^\d{1,15}$/.test(s) ? Number(s) : undefined;
};

/** The first entry of an array, or of a form-encoded one (an object keyed "0", "1", …). */
const first = (v: JsonValue | undefined): JsonValue | undefined =>
  Array.isArray(v) ? v[0] : typeof v === "object" && v !== null ? v["0"] : undefined;

/** Cloudinary's `colors` is `[[hex, percent], …]`, most predominant first. */
const predominantColor = (colors: JsonValue | undefined): string => {
  const top = first(colors);
  const hex = typeof top === "string" ? top : first(top);
  return typeof hex === "string" && HEX_COLOR.test(hex) ? hex : "#";
};

const field = (name: string) => `cloudinary[${name}]`;

/** Everything but the signature: what makes the response usable as an image of this service. */
const describe = (fields: JsonObject, publicId: string, version: number): E.Either<Invalid, ExternalAsset> => {
  const issues: FieldIssue[] = [];
  const need = <A>(name: string, value: A | undefined, message: string): A | undefined => {
    if (value === undefined) issues.push({ field: field(name), message });
    return value;
  };
  if (!BlobKey.is(publicId))
    issues.push({ field: field("public_id"), message: "must be 1 to 128 letters, digits, '_' or '-', starting with a letter or digit (no folders)" });
  const resourceType = scalar(fields.resource_type);
  if (resourceType !== undefined && resourceType !== "image") issues.push({ field: field("resource_type"), message: "must be image" });
  // Delivery URLs are signed `authenticated` ones; an asset of another type would not be found there.
  if (scalar(fields.type) !== "authenticated") issues.push({ field: field("type"), message: "must be authenticated" });
  const width = need("width", wholeNumber(fields.width) || undefined, "must be a positive whole number");
  const height = need("height", wholeNumber(fields.height) || undefined, "must be a positive whole number");
  const bytes = need("bytes", wholeNumber(fields.bytes) || undefined, "must be a positive whole number");
  const format = scalar(fields.format)?.toLowerCase();
  const contentType = need("format", format !== undefined && FORMATS.includes(format) ? mediaTypeOf(format) : undefined, `must be one of ${FORMATS.join(", ")}`);
  const metadata = fields.image_metadata;
  if (metadata !== undefined && !JsonObjectCodec.is(metadata)) issues.push({ field: field("image_metadata"), message: "must be an object" });
  if (issues.length > 0 || width === undefined || height === undefined || bytes === undefined || format === undefined || contentType === undefined)
    return E.left(invalid(issues));
  const exifs = JsonObjectCodec.is(metadata) ? metadata : {};
  const originalFilename = scalar(fields.original_filename);
  return E.right({
    blob: { key: publicId as BlobKey, format, contentType, bytes, etag: scalar(fields.etag) ?? "", version },
    width,
    height,
    exifs,
    // Camera clocks carry no zone; like the rest of the family, they are read as UTC.
    takenAt: exifDate(exifs.DateTimeOriginal),
    gps: null,
    color: predominantColor(fields.colors),
    originalFilename: originalFilename === undefined || originalFilename.trim() === "" ? publicId : originalFilename,
    infos: fields,
  });
};

/**
 * Accepts the upload response a browser got from Cloudinary and relays as `cloudinary[...]` fields,
 * when Cloudinary signed it for this account (`public_id` and `version`, with the API secret). The
 * other fields are Cloudinary's description of the asset as relayed; they are kept as the image's
 * `infos` exactly as posted.
 */
export const cloudinaryUploadVerifier = (options: CloudinaryUploadVerifierOptions): ExternalUploadVerifier => ({
  verify: (fields) => {
    const publicId = scalar(fields.public_id);
    const version = scalar(fields.version);
    const signature = scalar(fields.signature);
    const missing = (
      [
        ["public_id", publicId],
        ["version", version],
        ["signature", signature],
      ] as const
    )
      .filter(([, v]) => v === undefined || v === "")
      .map(([name]) => ({ field: field(name), message: "is required (from the upload response)" }));
    if (missing.length > 0 || publicId === undefined || version === undefined || signature === undefined)
      return TE.left<Forbidden | Invalid, ExternalAsset>(invalid(missing));
    return pipe(
      verifyUploadSignature({
        apiSecret: options.apiSecret,
        params: { public_id: publicId, version },
        signature,
        ...(options.signatureAlgorithm ? { algorithm: options.signatureAlgorithm } : {}),
      }),
      E.chainW((verified) => describe(fields, verified.publicId, verified.version)),
      TE.fromEither,
    );
  },
});
