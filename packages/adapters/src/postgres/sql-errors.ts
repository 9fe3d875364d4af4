import { unavailable, type Unavailable } from "@image-api/core";

const codeOf = (e: unknown): string | undefined =>
  typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : undefined;

/** SQLSTATE 23505: a primary key or unique constraint refused the row. */
export const isUniqueViolation = (e: unknown): boolean => codeOf(e) === "23505";

/**
 * Anything else is the database being unreachable or misbehaving (refused or dropped connections, pool
 * timeouts, a closed PGlite, a failed statement): the caller can only retry later.
 */
export const toUnavailable = (e: unknown): Unavailable => {
  const message = e instanceof Error ? e.message : String(e);
  const code = codeOf(e);
  return unavailable(`database unavailable: ${code ? `${code} ` : ""}${message}`, e);
};
