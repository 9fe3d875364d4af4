import * as t from "io-ts";

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

const isJsonValue = (u: unknown, depth = 0): u is JsonValue => {
  if (depth > 32) return false;
  if (u === null || typeof u === "string" || typeof u === "boolean") return true;
  if (typeof u === "number") return Number.isFinite(u);
  if (Array.isArray(u)) return u.every((v) => isJsonValue(v, depth + 1));
  if (typeof u === "object") return Object.values(u as object).every((v) => isJsonValue(v, depth + 1));
  return false;
};

export const JsonObjectCodec = new t.Type<JsonObject, JsonObject, unknown>(
  "JsonObject",
  (u): u is JsonObject => typeof u === "object" && u !== null && !Array.isArray(u) && isJsonValue(u),
  (u, c) => (typeof u === "object" && u !== null && !Array.isArray(u) && isJsonValue(u) ? t.success(u as JsonObject) : t.failure(u, c)),
  t.identity,
);
