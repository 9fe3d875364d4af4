/**
 * Validates every response a test app writes against the OpenAPI document, so the document cannot
 * drift from the code. Hand-written on ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect) because the
 * maintained OpenAPI response validators on npm describe 3.0 only, and this one has to see responses
 * at the Node level (supertest and plain fetch/HTTP clients alike), not through one client's API.
 *
 * `validated(app)` wraps an app (the harness does it for every test app); what a response breaks is
 * reported to openapi-failures.ts and fails the running test (openapi-setup.ts).
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import type { Express, NextFunction, Request, Response } from "express";
import { openApiDocument } from "../src/openapi/document.js";
import { METHODS, type Header, type OpenApiDocument, type Operation, type Parameter, type PathItem, type Reference, type Response as ResponseObject, type Schema } from "../src/openapi/spec-types.js";
import { reportContractFailure } from "./openapi-failures.js";

/** One request and the response the app wrote for it. */
export interface Exchange {
  readonly method: string;
  /** The request target as received: path and query. */
  readonly url: string;
  readonly requestHeaders: IncomingHttpHeaders;
  readonly status: number;
  /** As set on the response (names in lower case). */
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
}

export interface Contract {
  /** What the exchange breaks; empty when the document describes it. */
  readonly check: (exchange: Exchange) => string[];
  /** Compiles every schema the document holds, so a malformed one fails even if no test reaches it. */
  readonly compileAll: () => void;
}

const DOCUMENT_ID = "https://image-api.invalid/openapi.json";

const isReference = (x: object): x is Reference => "$ref" in x;
const escapePointer = (s: string): string => s.replace(/~/g, "~0").replace(/\//g, "~1");
const unescapePointer = (s: string): string => s.replace(/~1/g, "/").replace(/~0/g, "~");

interface Route {
  readonly template: string;
  readonly item: PathItem;
  readonly regex: RegExp;
  readonly params: number;
}

/** `{name}` is one segment, unless its parameter is marked `x-multi-segment` (Express `*name`). */
const routeOf = (template: string, item: PathItem): Route => {
  const params = [...(item.parameters ?? []), ...METHODS.flatMap((m) => item[m]?.parameters ?? [])].filter((p): p is Parameter => !isReference(p));
  const multi = new Set(params.filter((p) => p.in === "path" && p["x-multi-segment"]).map((p) => p.name));
  let count = 0;
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const name = /^\{([^}]+)\}$/.exec(part)?.[1];
      if (name === undefined) return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
      count += 1;
      return multi.has(name) ? "(.+)" : "([^/]+)";
    })
    .join("");
  // Express routes case-insensitively and tolerates one trailing slash; so does this match.
  return { template, item, regex: new RegExp(`^${source}/?$`, "i"), params: count };
};

const mediaTypeOf = (contentType: unknown): string | undefined =>
  typeof contentType === "string" ? contentType.split(";")[0]!.trim().toLowerCase() : undefined;

const matchesMediaRange = (range: string, type: string): boolean => {
  if (range === "*/*" || range === type) return true;
  return range.endsWith("/*") && type.startsWith(range.slice(0, -1));
};

const isJson = (type: string): boolean => type === "application/json" || type.endsWith("+json");

const headerValue = (v: OutgoingHttpHeaders[string]): string | undefined => (v === undefined ? undefined : Array.isArray(v) ? v.join(", ") : String(v));

/** A header's text as the value its schema describes (simple style: integers, booleans, strings). */
const deserialize = (raw: string, schema: Schema): unknown => {
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if ((types.includes("integer") || types.includes("number")) && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (types.includes("boolean") && (raw === "true" || raw === "false")) return raw === "true";
  return raw;
};

/**
 * A CORS preflight belongs to the CORS protocol, not to an operation: the cors middleware answers it
 * for any path (with IMAGE_API_CORS_ORIGINS set), Express's automatic OPTIONS reply otherwise.
 */
const isPreflight = (e: Exchange): boolean =>
  e.method === "OPTIONS" && e.requestHeaders.origin !== undefined && e.requestHeaders["access-control-request-method"] !== undefined;

export const compileContract = (document: OpenApiDocument): Contract => {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  formats.default(ajv);
  // OpenAPI's own format for file contents; there is nothing to check in a string of bytes.
  ajv.addFormat("binary", true);
  // The document is registered whole, so `#/components/...` references resolve as they do in it; its
  // top-level fields are not schema keywords, and strict mode is told so (schemas inside stay strict).
  ajv.addVocabulary(["openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks", "components", "security", "tags", "externalDocs"]);
  ajv.addSchema(document as object, DOCUMENT_ID);

  const validators = new Map<string, ValidateFunction>();
  const validatorAt = (pointer: string): ValidateFunction => {
    let v = validators.get(pointer);
    if (!v) {
      v = ajv.getSchema(`${DOCUMENT_ID}#${pointer}`);
      if (!v) throw new Error(`no schema at ${pointer}`);
      validators.set(pointer, v);
    }
    return v;
  };
  const errorsOf = (v: ValidateFunction): string =>
    (v.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? ""}${e.params && "additionalProperty" in e.params ? ` '${String(e.params.additionalProperty)}'` : ""}`).join("; ");

  /** Follows a `#/...` reference inside the document; returns the object and where it lives. */
  const resolve = <T extends object>(x: T | Reference, pointer: string): [T, string] => {
    if (!isReference(x)) return [x, pointer];
    const at = x.$ref.replace(/^#/, "");
    let node: unknown = document;
    for (const part of at.split("/").slice(1)) node = (node as Record<string, unknown>)[unescapePointer(part)];
    if (node === undefined) throw new Error(`dangling $ref ${x.$ref}`);
    return resolve(node as T | Reference, at);
  };

  const routes = Object.entries(document.paths)
    .map(([template, item]) => routeOf(template, item))
    // Literal paths before templated ones, as Express would try the more specific route first here.
    .sort((a, b) => a.params - b.params);

  const checkResponse = (e: Exchange, doc: ResponseObject, pointer: string): string[] => {
    const problems: string[] = [];
    for (const [name, h] of Object.entries(doc.headers ?? {})) {
      const [headerDoc, at] = resolve<Header>(h, `${pointer}/headers/${escapePointer(name)}`);
      const raw = headerValue(e.headers[name.toLowerCase()]);
      if (raw === undefined) {
        if (headerDoc.required) problems.push(`missing header ${name}`);
        continue;
      }
      const v = validatorAt(`${at}/schema`);
      if (!v(deserialize(raw, headerDoc.schema))) problems.push(`header ${name}: ${JSON.stringify(raw)} ${errorsOf(v)}`);
    }

    const type = mediaTypeOf(e.headers["content-type"]);
    const content = Object.keys(doc.content ?? {});
    if (content.length === 0) {
      if (e.body.length > 0) problems.push(`documented without a body, but has ${e.body.length} bytes`);
      if (type) problems.push(`documented without a body, but has Content-Type ${type}`);
      return problems;
    }
    if (!type) return [...problems, `no Content-Type (documented: ${content.join(", ")})`];
    const range = content.find((r) => matchesMediaRange(r, type));
    if (!range) return [...problems, `Content-Type ${type} is not documented (documented: ${content.join(", ")})`];
    if (e.method === "HEAD") return problems;

    const length = headerValue(e.headers["content-length"]);
    if (length !== undefined && Number(length) !== e.body.length) problems.push(`Content-Length ${length} but the body has ${e.body.length} bytes`);
    if (isJson(type)) {
      let body: unknown;
      try {
        body = JSON.parse(e.body.toString("utf8"));
      } catch {
        return [...problems, `body is not JSON: ${e.body.toString("utf8").slice(0, 80)}`];
      }
      const v = validatorAt(`${pointer}/content/${escapePointer(range)}/schema`);
      if (!v(body)) problems.push(`body: ${errorsOf(v)}`);
    }
    return problems;
  };

  const checkAgainst = (e: Exchange, responses: Operation["responses"], pointer: string, what: string): string[] => {
    const status = String(e.status);
    const key = [status, `${status[0]}XX`, "default"].find((k) => responses[k] !== undefined);
    if (!key) return [`status ${status} is not documented for ${what} (documented: ${Object.keys(responses).join(", ")})`];
    const [doc, at] = resolve<ResponseObject>(responses[key]!, `${pointer}/${escapePointer(key)}`);
    return checkResponse(e, doc, at);
  };

  /** Unrouted requests get the app's catch-all answer; under /api/v1 the token is checked before routing. */
  const unrouted = (e: Exchange, path: string): string[] => {
    const fallback: Record<string, Reference> = { "404": { $ref: "#/components/responses/NotFound" } };
    if (/^\/api\/v1(\/|$)/i.test(path)) fallback["401"] = { $ref: "#/components/responses/Unauthenticated" };
    if (fallback[String(e.status)] === undefined) return [`undocumented route: no ${e.method} ${path} in the document, yet answered ${e.status}`];
    return checkAgainst(e, fallback, "(catch-all)", `an undocumented route`);
  };

  const check = (e: Exchange): string[] => {
    if (isPreflight(e)) return [];
    const path = e.url.split("?")[0]!;
    const method = e.method.toLowerCase() as (typeof METHODS)[number];
    const route = routes.find((r) => r.regex.test(path) && r.item[method] !== undefined);
    if (!route) return unrouted(e, path);
    const pointer = `/paths/${escapePointer(route.template)}/${method}/responses`;
    return checkAgainst(e, route.item[method]!.responses, pointer, `${e.method} ${route.template}`);
  };

  const compileAll = (): void => {
    const walk = (node: unknown, pointer: string, isSchema: boolean): void => {
      if (typeof node !== "object" || node === null) return;
      if (isSchema) {
        validatorAt(pointer);
        return;
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${pointer}/${escapePointer(k)}`, k === "schema" || pointer === "/components/schemas");
    };
    walk(document, "", false);
  };

  return { check, compileAll };
};

/** Calls `onExchange` with every response the app ends, by wrapping the app's entry point. */
export const recordExchanges = <A extends Express>(app: A, onExchange: (e: Exchange) => void): A => {
  // Express calls `app.handle` for each request, whether it came through supertest, listen() or a raw server.
  const target = app as unknown as { handle: (req: Request, res: Response, next?: NextFunction) => void };
  const handle = target.handle.bind(app);
  target.handle = (req, res, next) => {
    const { method, url, headers: requestHeaders } = req;
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown, encoding: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === "function") return;
      if (typeof chunk === "string") chunks.push(Buffer.from(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8"));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    const write = res.write;
    const end = res.end;
    let done = false;
    res.write = function (this: Response, ...args: unknown[]) {
      keep(args[0], args[1]);
      return (write as (...a: unknown[]) => boolean).apply(this, args);
    } as Response["write"];
    res.end = function (this: Response, ...args: unknown[]) {
      keep(args[0], args[1]);
      const result = (end as (...a: unknown[]) => Response).apply(this, args);
      // A response ended after the client hung up never goes out (Node skips writing its head): nothing to check.
      if (!done && res.headersSent) {
        done = true;
        // After the original end: the headers are final (X-Runtime and the order are set as they go out).
        onExchange({ method, url, requestHeaders, status: res.statusCode, headers: res.getHeaders(), body: Buffer.concat(chunks) });
      }
      return result;
    } as Response["end"];
    handle(req, res, next);
  };
  return app;
};

let shared: Contract | undefined;
/** The document every test app serves (its `servers` entry aside), compiled once per test file. */
export const defaultContract = (): Contract => (shared ??= compileContract(openApiDocument({ publicUrl: "/" })));

/** The app, reporting each response the document does not describe (the running test then fails). */
export const validated = <A extends Express>(app: A, contract: () => Contract = defaultContract): A =>
  recordExchanges(app, (e) => {
    let problems: string[];
    try {
      problems = contract().check(e);
    } catch (err) {
      problems = [`validator error: ${err instanceof Error ? err.message : String(err)}`];
    }
    // The query is left out: delivery URLs carry their signature there.
    for (const p of problems) reportContractFailure(`${e.method} ${e.url.split("?")[0]} → ${e.status}: ${p}`);
  });

/** `METHOD /openapi/path` for every route registered on the app (Express `:id` and `*path` as `{id}` / `{path}`). */
export const expressRoutes = (app: Express): string[] => {
  interface Layer {
    readonly rawPath?: unknown;
    readonly route?: { readonly path: unknown; readonly methods: Record<string, boolean> };
    readonly handle?: { readonly stack?: readonly Layer[] };
  }
  const join = (prefix: string, path: unknown): string => {
    if (typeof path !== "string") throw new Error(`cannot list a route with a non-string path: ${String(path)}`);
    const full = `${prefix}${path === "/" ? "" : path}`;
    return full.replace(/:(\w+)/g, "{$1}").replace(/\*(\w+)/g, "{$1}") || "/";
  };
  const found: string[] = [];
  const walk = (stack: readonly Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [m, on] of Object.entries(layer.route.methods)) if (on && m !== "_all") found.push(`${m.toUpperCase()} ${join(prefix, layer.route.path)}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack, join(prefix, layer.rawPath ?? "/").replace(/\/$/, ""));
    }
  };
  walk((app as unknown as { router: { stack: readonly Layer[] } }).router.stack, "");
  return [...new Set(found)].sort();
};

/** `METHOD /path` for every operation of the document. */
export const documentedOperations = (document: OpenApiDocument): string[] =>
  Object.entries(document.paths)
    .flatMap(([path, item]) => METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
