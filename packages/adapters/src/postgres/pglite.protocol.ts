/**
 * The messages between the PGlite client and its worker thread: one request and one reply per call,
 * matched by a numeric id. Id 0 is the worker's answer to opening the database.
 *
 * A transaction is the `begin` request's id: the worker answers it once PGlite's transaction has started
 * (so the callback runs only when it holds the connection, as with PGlite on the main thread), then
 * runs each request carrying that `tx` inside it, until `end` commits or rolls back. The reply to `end`
 * comes once PGlite's COMMIT or ROLLBACK is through.
 */
export type Request =
  | { readonly op: "query"; readonly id: number; readonly tx: number; readonly text: string; readonly params: readonly unknown[]; readonly name?: string }
  | { readonly op: "exec"; readonly id: number; readonly tx: number; readonly script: string }
  | { readonly op: "begin"; readonly id: number }
  | { readonly op: "end"; readonly id: number; readonly tx: number; readonly commit: boolean }
  | { readonly op: "close"; readonly id: number };

/** A database error's own fields (`code`, `constraint`, `detail`, …), copied as plain values, and its message. */
export interface SerializedError {
  readonly message: string;
  readonly fields: Record<string, string | number | boolean>;
}

/** The reply to a call: its rows for a query, its error for a failure, nothing more otherwise. */
export interface Reply {
  readonly id: number;
  readonly rows?: unknown[];
  readonly rowCount?: number;
  readonly error?: SerializedError;
}

/**
 * Structured clone keeps an Error's message but drops the fields Postgres errors carry, so they are
 * copied one by one: every own enumerable string, number or boolean (objects such as the query's
 * parameters stay behind).
 */
export const serializeError = (e: unknown): SerializedError => {
  if (typeof e !== "object" || e === null) return { message: String(e), fields: {} };
  const fields: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(e)) {
    if (key !== "message" && (typeof value === "string" || typeof value === "number" || typeof value === "boolean")) fields[key] = value;
  }
  const message = (e as { message?: unknown }).message;
  return { message: typeof message === "string" ? message : String(e), fields };
};

export const deserializeError = ({ message, fields }: SerializedError): Error => Object.assign(new Error(message), fields);
