import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import sharp from "sharp";
import { apiSignatureMatches, responseSignature, urlSignature, urlSignatureMatches } from "./fake-cloudinary.signing.js";
import { boundaryOf, parseMultipart } from "./multipart.js";

export interface FakeCloudinaryOptions {
  readonly cloudName: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** Largest request body accepted, in bytes (413 beyond). */
  readonly maxBodyBytes?: number;
  /** The account's signature algorithm, which delivery URL signatures use. Default `sha1`. */
  readonly signatureAlgorithm?: "sha1" | "sha256";
}

export type FakeResourceType = "image" | "raw";

export interface FakeCloudinaryAsset {
  readonly publicId: string;
  readonly resourceType: FakeResourceType;
  readonly type: string;
  readonly version: number;
  /** Null for raw assets, whose public id keeps any extension. */
  readonly format: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly bytes: number;
  readonly etag: string;
  readonly tags: readonly string[];
  readonly createdAt: string;
  readonly data: Buffer;
}

export interface FakeCloudinary {
  /** Pass as the SDK's `upload_prefix` (API host). */
  readonly uploadPrefix: string;
  /** Stands in for `https://res.cloudinary.com` (delivery host). */
  readonly deliveryBaseUrl: string;
  readonly assets: () => readonly FakeCloudinaryAsset[];
  /** Every API call received, in order: `upload image`, `destroy raw`, `admin DELETE resources/image/authenticated`, … */
  readonly apiCalls: () => readonly string[];
  readonly close: () => Promise<void>;
}

const STALE_AFTER_SECONDS = 3600;

const MIME: Record<string, string> = {
  jpg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  tiff: "image/tiff",
  heic: "image/heic",
  svg: "image/svg+xml",
};
const CLOUDINARY_FORMAT: Record<string, string> = { jpeg: "jpg", heif: "heic" };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const readBody = async (req: IncomingMessage, limit: number): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) throw new HttpError(413, `Request body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
};

const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
};

const formFields = (req: IncomingMessage, body: Buffer): { fields: Record<string, string>; file: Buffer | null; filename: string | null } => {
  const boundary = boundaryOf(req.headers["content-type"]);
  if (boundary !== null) {
    const form = parseMultipart(body, boundary);
    if (form === null) throw new HttpError(400, "Malformed multipart body");
    const part = form.files.file;
    return { fields: { ...form.fields }, file: part ? part.data : null, filename: part ? part.filename : null };
  }
  const fields = Object.fromEntries(new URLSearchParams(body.toString("utf8")));
  return { fields, file: null, filename: null };
};

/** `data:` URIs are the upload API's other way to send bytes in a field. */
const dataUri = (value: string | undefined): Buffer | null => {
  const m = value === undefined ? null : /^data:[^;,]*(;base64)?,(.*)$/s.exec(value);
  if (!m) return null;
  return m[1] ? Buffer.from(m[2]!, "base64") : Buffer.from(decodeURIComponent(m[2]!), "utf8");
};

const utcStamp = (seconds: number): string => new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " +0000");

/**
 * A Cloudinary stand-in on 127.0.0.1 for tests: the upload API's `upload` and `destroy` (signed
 * multipart requests, checked like Cloudinary checks them), the Admin API's delete-by-prefix (Basic
 * auth) and signed delivery URLs. Delivery serves the stored bytes whatever the transformation or
 * extension asked for: it checks access, it does not render.
 */
export const startFakeCloudinary = async (options: FakeCloudinaryOptions): Promise<FakeCloudinary> => {
  const { cloudName, apiKey, apiSecret } = options;
  const algorithm = options.signatureAlgorithm ?? "sha1";
  const calls: string[] = [];
  const maxBody = options.maxBodyBytes ?? 100 * 1024 * 1024;
  const store = new Map<string, FakeCloudinaryAsset>();
  const slot = (rt: string, type: string, publicId: string) => `${rt}/${type}/${publicId}`;
  let lastVersion = 0;
  let origin = "";

  const deliveryUrl = (a: FakeCloudinaryAsset): string => {
    const file = a.format === null ? a.publicId : `${a.publicId}.${a.format}`;
    const signature = a.type === "upload" ? [] : [urlSignature(file, apiSecret, algorithm)];
    return [origin, cloudName, a.resourceType, a.type, ...signature, `v${a.version}`, file].join("/");
  };

  const describe = (a: FakeCloudinaryAsset, originalFilename: string | null, existing = false) => ({
    asset_id: createHash("md5").update(slot(a.resourceType, a.type, a.publicId)).digest("hex"),
    public_id: a.publicId,
    version: a.version,
    version_id: createHash("md5").update(`${a.publicId}@${a.version}`).digest("hex"),
    signature: responseSignature(a.publicId, a.version, apiSecret),
    ...(a.width === null ? {} : { width: a.width, height: a.height }),
    ...(a.format === null ? {} : { format: a.format }),
    resource_type: a.resourceType,
    created_at: a.createdAt,
    tags: a.tags,
    bytes: a.bytes,
    type: a.type,
    etag: a.etag,
    placeholder: false,
    url: deliveryUrl(a),
    secure_url: deliveryUrl(a),
    asset_folder: "",
    display_name: a.publicId,
    ...(originalFilename === null ? {} : { original_filename: originalFilename }),
    ...(existing ? { existing: true } : {}),
    api_key: apiKey,
  });

  /** Rejects what Cloudinary rejects before looking at the request's purpose. */
  const authenticate = (fields: Record<string, string>): void => {
    if (fields.api_key === undefined) throw new HttpError(400, "Must supply api_key");
    if (fields.api_key !== apiKey) throw new HttpError(401, `Unknown API key ${fields.api_key}`);
    if (fields.signature === undefined) throw new HttpError(400, "Missing required parameter - signature");
    const timestamp = Number(fields.timestamp);
    if (fields.timestamp === undefined || !Number.isFinite(timestamp)) throw new HttpError(400, "Missing required parameter - timestamp");
    const check = apiSignatureMatches(fields, apiSecret);
    if (!check.ok) throw new HttpError(401, `Invalid Signature ${fields.signature}. String to sign - '${check.signed}'.`);
    if (Date.now() / 1000 - timestamp > STALE_AFTER_SECONDS) {
      throw new HttpError(400, `Stale request - reported time is ${utcStamp(timestamp)} which is more than 1 hour ago`);
    }
  };

  const upload = async (requested: string, req: IncomingMessage, res: ServerResponse) => {
    const { fields, file, filename } = formFields(req, await readBody(req, maxBody));
    authenticate(fields);
    const bytes = file ?? dataUri(fields.file);
    if (bytes === null) throw new HttpError(400, "Missing required parameter - file");
    const meta = requested === "raw" ? null : await sharp(bytes).metadata().catch(() => null);
    if (requested === "image" && (meta === null || meta.format === undefined)) throw new HttpError(400, "Invalid image file");
    const resourceType: FakeResourceType = meta?.format === undefined ? "raw" : "image";
    const type = fields.type || "upload";
    const publicId = fields.public_id || randomBytes(10).toString("hex");
    const key = slot(resourceType, type, publicId);
    const previous = store.get(key);
    if (previous && (fields.overwrite === "0" || fields.overwrite === "false")) return sendJson(res, 200, describe(previous, filename, true));
    const now = Math.floor(Date.now() / 1000);
    lastVersion = Math.max(now, lastVersion + 1);
    const format = meta?.format === undefined ? null : (CLOUDINARY_FORMAT[meta.format] ?? meta.format);
    const asset: FakeCloudinaryAsset = {
      publicId,
      resourceType,
      type,
      version: lastVersion,
      format,
      width: meta?.width ?? null,
      height: meta?.height ?? null,
      bytes: bytes.byteLength,
      etag: createHash("md5").update(bytes).digest("hex"),
      tags: fields.tags ? fields.tags.split(",") : [],
      createdAt: new Date(now * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
      data: bytes,
    };
    store.set(key, asset);
    sendJson(res, 200, describe(asset, filename));
  };

  const destroy = async (resourceType: string, req: IncomingMessage, res: ServerResponse) => {
    const { fields } = formFields(req, await readBody(req, maxBody));
    authenticate(fields);
    if (!fields.public_id) throw new HttpError(400, "Missing required parameter - public_id");
    const removed = store.delete(slot(resourceType, fields.type || "upload", fields.public_id));
    sendJson(res, 200, { result: removed ? "ok" : "not found" });
  };

  const basicAuthorized = (req: IncomingMessage): boolean => {
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
    return m !== null && Buffer.from(m[1]!, "base64").toString("utf8") === `${apiKey}:${apiSecret}`;
  };

  const deleteResources = async (resourceType: string, type: string, req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => {
    const body = new URLSearchParams((await readBody(req, maxBody)).toString("utf8"));
    if (!basicAuthorized(req)) throw new HttpError(401, "Invalid credentials");
    const prefix = body.get("prefix") ?? query.get("prefix");
    const ids = [...body.getAll("public_ids[]"), ...query.getAll("public_ids[]")];
    if (prefix === null && ids.length === 0) throw new HttpError(400, "Must specify public_ids, prefix or all");
    const deleted: Record<string, string> = {};
    for (const a of [...store.values()]) {
      if (a.resourceType !== resourceType || a.type !== type) continue;
      if ((prefix !== null && a.publicId.startsWith(prefix)) || ids.includes(a.publicId)) {
        store.delete(slot(a.resourceType, a.type, a.publicId));
        deleted[a.publicId] = "deleted";
      }
    }
    for (const id of ids) deleted[id] ??= "not_found";
    const counts = Object.fromEntries(Object.entries(deleted).map(([id, r]) => [id, { original: r === "deleted" ? 1 : 0, derived: 0 }]));
    sendJson(res, 200, { deleted, deleted_counts: counts, partial: false });
  };

  const deliver = (req: IncomingMessage, res: ServerResponse, segments: string[]) => {
    const [resourceType, type, ...rest] = segments;
    // Public (`upload`) assets have no signature segment; every other type must be signed.
    const signature = type === "upload" ? null : rest.shift();
    const file = rest.pop();
    if (!resourceType || !type || !file) throw new HttpError(404, "Resource not found");
    if (rest.length > 0 && /^v\d+$/.test(rest[rest.length - 1]!)) rest.pop();
    if (signature !== null && !(signature && urlSignatureMatches(signature, [...rest, file].join("/"), apiSecret, algorithm))) {
      res.writeHead(401, { "x-cld-error": "Invalid signature", "Content-Length": 0 });
      return res.end();
    }
    const dot = file.lastIndexOf(".");
    const candidates = resourceType === "raw" || dot < 0 ? [file] : [file.slice(0, dot), file];
    const asset = candidates.map((id) => store.get(slot(resourceType, type, id))).find((a) => a !== undefined);
    if (!asset) {
      res.writeHead(404, { "x-cld-error": "Resource not found", "Content-Length": 0 });
      return res.end();
    }
    const headers: Record<string, string | number> = {
      "Content-Type": (asset.format !== null && MIME[asset.format]) || "application/octet-stream",
      "Content-Length": asset.bytes,
      ETag: `"${asset.etag}"`,
    };
    if (rest.some((step) => step.split(",").includes("fl_attachment"))) {
      headers["Content-Disposition"] = `attachment; filename="${asset.format === null ? asset.publicId : `${asset.publicId}.${asset.format}`}"`;
    }
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : asset.data);
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const segments = url.pathname.split("/").slice(1).map(decodeURIComponent);
    const method = req.method ?? "GET";
    if (segments[0] === "v1_1" && segments[1] === cloudName) {
      const [, , first, second, third] = segments;
      calls.push(first === "resources" ? `admin ${method} ${segments.slice(2).join("/")}` : `${second} ${first}`);
      if (method === "POST" && second === "upload" && (first === "image" || first === "raw" || first === "auto")) return upload(first, req, res);
      if (method === "POST" && second === "destroy" && (first === "image" || first === "raw")) return destroy(first, req, res);
      if (method === "DELETE" && first === "resources" && second && third) return deleteResources(second, third, req, res, url.searchParams);
      throw new HttpError(404, `No route ${method} ${url.pathname}`);
    }
    if ((method === "GET" || method === "HEAD") && segments[0] === cloudName) return deliver(req, res, segments.slice(1));
    throw new HttpError(404, `No route ${method} ${url.pathname}`);
  };

  const server = createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      const message = e instanceof Error ? e.message : String(e);
      // Drain what the client is still sending, so it reads the answer instead of a reset connection.
      req.resume();
      if (!res.headersSent) sendJson(res, status, { error: { message } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;

  return {
    uploadPrefix: origin,
    deliveryBaseUrl: origin,
    assets: () => [...store.values()],
    apiCalls: () => [...calls],
    // Idempotent, so a test may stop the server early to see clients fail.
    close: () => (closing ??= new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((e) => (e ? reject(e) : resolve()));
    })),
  };
};
