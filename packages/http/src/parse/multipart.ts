import busboy from "busboy";
import type { Request } from "express";
import { invalidField, tooLarge, unsupported, type Invalid, type TooLarge, type Unsupported } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";

export interface UploadedFile {
  readonly bytes: Uint8Array;
  readonly filename: string;
  readonly mimeType: string;
}

export interface MultipartForm {
  readonly fields: readonly (readonly [string, string])[];
  readonly file: UploadedFile | null;
}

type FormError = Invalid | TooLarge | Unsupported;

const FIELD_LIMITS = { fields: 200, fieldSize: 64 * 1024, parts: 210, files: 1 };

/**
 * Reads a multipart upload with hard limits. The file is held in memory because probing needs the
 * whole image; the byte limit bounds that.
 */
export const readMultipart = (req: Request, maxFileBytes: number): Promise<E.Either<FormError, MultipartForm>> =>
  new Promise((resolve) => {
    let settled = false;
    const finish = (result: E.Either<FormError, MultipartForm>) => {
      if (settled) return;
      settled = true;
      if (E.isLeft(result)) {
        req.unpipe();
        // Drain the rest so the client can read our error instead of a reset connection.
        req.resume();
      }
      resolve(result);
    };
    let parser: busboy.Busboy;
    try {
      // Browsers and HTTP clients send file names as raw UTF-8, not latin1 (busboy's default).
      parser = busboy({ headers: req.headers, defParamCharset: "utf8", limits: { ...FIELD_LIMITS, fileSize: maxFileBytes } });
    } catch {
      finish(E.left(unsupported("expected multipart/form-data with a boundary")));
      return;
    }
    const fields: [string, string][] = [];
    let file: UploadedFile | null = null;
    let pending = 0;
    let ended = false;
    const maybeDone = () => {
      if (ended && pending === 0) finish(E.right({ fields, file }));
    };
    parser.on("field", (name, value, info) => {
      if (info.valueTruncated || info.nameTruncated) finish(E.left(invalidField(name, "field too long")));
      else fields.push([name, value]);
    });
    parser.on("file", (name, stream, info) => {
      if (name !== "file" || file !== null) {
        stream.resume();
        return;
      }
      pending += 1;
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("limit", () => finish(E.left(tooLarge(maxFileBytes))));
      stream.on("error", () => finish(E.left(invalidField("file", "upload interrupted"))));
      stream.on("end", () => {
        pending -= 1;
        const bytes = Buffer.concat(chunks);
        file = { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), filename: info.filename ?? "", mimeType: info.mimeType };
        maybeDone();
      });
    });
    parser.on("filesLimit", () => finish(E.left(invalidField("file", "send exactly one file"))));
    parser.on("fieldsLimit", () => finish(E.left(invalidField("body", "too many fields"))));
    parser.on("partsLimit", () => finish(E.left(invalidField("body", "too many parts"))));
    parser.on("error", (e: Error) => finish(E.left(invalidField("body", `malformed multipart body: ${e.message}`))));
    parser.on("close", () => {
      ended = true;
      maybeDone();
    });
    req.on("aborted", () => finish(E.left(invalidField("body", "request aborted"))));
    req.pipe(parser);
  });
