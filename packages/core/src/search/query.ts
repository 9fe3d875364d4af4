import { invalid, type Invalid } from "../shared/errors.js";

/** What a fielded term targets. A metadatas key is kept as typed; matching folds it. */
export type SearchField =
  | { readonly kind: "title" | "description" | "filename" | "album_id" | "tag" | "format" }
  | { readonly kind: "metadatas"; readonly key: string };

/**
 * A parsed search query. `text` is the value as typed, escapes resolved; `position` is the 0-based
 * character offset where the term or phrase starts in the query.
 */
export type SearchQuery =
  | { readonly _tag: "All"; readonly position: number }
  | { readonly _tag: "Term"; readonly field: SearchField | null; readonly text: string; readonly position: number }
  | { readonly _tag: "Phrase"; readonly field: SearchField | null; readonly text: string; readonly position: number }
  | { readonly _tag: "Not"; readonly query: SearchQuery }
  | { readonly _tag: "And"; readonly queries: readonly SearchQuery[] }
  | { readonly _tag: "Or"; readonly queries: readonly SearchQuery[] };

export const MAX_QUERY_LENGTH = 1000;
/** Terms, phrases and `*` together. */
export const MAX_QUERY_TERMS = 64;
/** Parentheses and negations nested inside one another. */
export const MAX_QUERY_DEPTH = 32;

/**
 * A query that cannot be run: `syntax` when it does not parse, `limit` when it is longer or more complex
 * than allowed. `position` is a 0-based character offset into the query, `expected` what would have been valid there.
 */
export interface QueryError {
  readonly _tag: "QueryError";
  readonly reason: "syntax" | "limit";
  readonly position: number;
  readonly expected: string;
  readonly message: string;
}

export const queryError = (reason: QueryError["reason"], position: number, expected: string, detail?: string): QueryError => ({
  _tag: "QueryError",
  reason,
  position,
  expected,
  message: `at position ${position}: expected ${expected}${detail ? `, ${detail}` : ""}`,
});

/** The query as the parameter `field` of a request: an Invalid, which hosts answer with 422. */
export const queryInvalid = (e: QueryError, field = "q"): Invalid => invalid([{ field, message: e.message }]);

export const fieldName = (field: SearchField): string => (field.kind === "metadatas" ? `metadatas.${field.key}` : field.kind);
