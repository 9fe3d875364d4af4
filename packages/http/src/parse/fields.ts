import { invalid, invalidField, type FieldIssue, type Invalid, type JsonObject } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";

const SEGMENTS = /^([^[\]]+)((?:\[[^[\]]*\])*)$/;
const MAX_DEPTH = 8;

/** Nests `metadatas[a][b]=v` style form fields into objects, as Rails and qs do. */
export const nestFields = (entries: readonly (readonly [string, string])[]): E.Either<Invalid, JsonObject> => {
  const root: JsonObject = {};
  for (const [name, value] of entries) {
    const m = SEGMENTS.exec(name);
    if (!m) return E.left(invalidField(name, "malformed field name"));
    const path = [m[1]!, ...[...m[2]!.matchAll(/\[([^[\]]*)\]/g)].map((s) => s[1]!)];
    if (path.length > MAX_DEPTH) return E.left(invalidField(name, "nested too deeply"));
    let node: JsonObject = root;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i]!;
      const next = Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined;
      if (next === undefined) node = node[key] = {};
      else if (typeof next === "object" && next !== null && !Array.isArray(next)) node = next;
      else return E.left(invalidField(name, "conflicts with another field"));
    }
    const last = path[path.length - 1]!;
    if (last === "") return E.left(invalidField(name, "array fields are not supported here"));
    if (last === "__proto__" || path.includes("__proto__")) return E.left(invalidField(name, "reserved name"));
    if (Object.prototype.hasOwnProperty.call(node, last)) return E.left(invalidField(name, "sent twice"));
    node[last] = value;
  }
  return E.right(root);
};

/** A field that must be a single string if present; JSON `null` clears it. */
export const optionalText = (body: Record<string, unknown>, field: string, issues: FieldIssue[]): string | null | undefined => {
  const v = body[field];
  if (v === undefined || v === null || typeof v === "string") return v;
  issues.push({ field, message: "must be a string" });
  return undefined;
};

export const optionalNumber = (body: Record<string, unknown>, field: string, issues: FieldIssue[]): number | undefined => {
  const v = body[field];
  if (v === undefined) return undefined;
  const n = typeof v === "number" ? v : typeof v === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (Number.isFinite(n)) return n;
  issues.push({ field, message: "must be a number" });
  return undefined;
};

export const bodyObject = (body: unknown): Record<string, unknown> =>
  typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

export const failIfAny = <A>(issues: FieldIssue[], value: A): E.Either<Invalid, A> =>
  issues.length > 0 ? E.left(invalid(issues)) : E.right(value);
