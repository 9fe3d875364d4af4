import { inDoubt, unavailable, type Unavailable } from "@image-api/core";

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
  const text = `database unavailable: ${code ? `${code} ` : ""}${message}`;
  return e instanceof CommitInDoubtError ? inDoubt(text, e.cause) : unavailable(text, e);
};

/** COMMIT was sent but no answer came back (connection lost, timeout): the transaction may have committed. */
export class CommitInDoubtError extends Error {
  constructor(override readonly cause: unknown) {
    super(`commit outcome unknown: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** A server answer carries a SQLSTATE; an error without one means the server's answer never arrived. */
export const isAnswered = (e: unknown): boolean => codeOf(e) !== undefined;
