import { foldText, wordsOf } from "./fold.js";
import { metadatasLineField } from "./document.js";
import type { SearchField, SearchQuery } from "./query.js";

export interface SearchOptions {
  /** Lets unfielded and `filename:` terms also match any substring of the filename (API `version=2`). */
  readonly substringFilename: boolean;
}

/**
 * A query reduced to tests on a SearchIndex / SearchDocument. Every backend evaluates this same plan,
 * so they agree on what a query means and differ only in how they test it.
 */
export type SearchPredicate =
  | { readonly _tag: "All" }
  /** Every lexeme is present. */
  | { readonly _tag: "Lexemes"; readonly lexemes: readonly string[] }
  /** The words follow each other in one line of field `line` (any line when null). */
  | { readonly _tag: "Phrase"; readonly line: string | null; readonly words: readonly string[] }
  /** The folded filename contains `needle`. */
  | { readonly _tag: "FilenameContains"; readonly needle: string }
  | { readonly _tag: "Not"; readonly predicate: SearchPredicate }
  | { readonly _tag: "And"; readonly predicates: readonly SearchPredicate[] }
  | { readonly _tag: "Or"; readonly predicates: readonly SearchPredicate[] };

/** The field lines a text field's words live in; null for unfielded. A metadatas key nobody can store never matches. */
const lineOf = (field: SearchField | null): string | null => {
  if (field === null) return null;
  if (field.kind === "metadatas") return metadatasLineField(field.key) ?? "meta.";
  return field.kind;
};

const words = (words: readonly string[], line: string | null): SearchPredicate => {
  const prefix = line === null ? "" : `${line}:`;
  const lexemes: SearchPredicate = { _tag: "Lexemes", lexemes: [...new Set(words)].map((w) => prefix + w) };
  // A term that folds to several words ("IMG_0042.jpg") reads as the phrase of those words.
  return words.length === 1 ? lexemes : { _tag: "And", predicates: [lexemes, { _tag: "Phrase", line, words }] };
};

const leaf = (query: Extract<SearchQuery, { _tag: "Term" | "Phrase" }>, options: SearchOptions): SearchPredicate => {
  const { field, text } = query;
  switch (field?.kind) {
    case "album_id":
      return { _tag: "Lexemes", lexemes: [`album_id:${text}`] };
    case "tag":
    case "format":
      return { _tag: "Lexemes", lexemes: [`${field.kind}:${wordsOf(text).join(" ")}`] };
    default: {
      const byWords = words(wordsOf(text), lineOf(field));
      const substring = options.substringFilename && query._tag === "Term" && (field === null || field.kind === "filename");
      return substring ? { _tag: "Or", predicates: [byWords, { _tag: "FilenameContains", needle: foldText(text) }] } : byWords;
    }
  }
};

export const searchPlan = (query: SearchQuery, options: SearchOptions): SearchPredicate => {
  switch (query._tag) {
    case "All":
      return { _tag: "All" };
    case "Term":
    case "Phrase":
      return leaf(query, options);
    case "Not":
      return { _tag: "Not", predicate: searchPlan(query.query, options) };
    case "And":
      return { _tag: "And", predicates: query.queries.map((q) => searchPlan(q, options)) };
    case "Or":
      return { _tag: "Or", predicates: query.queries.map((q) => searchPlan(q, options)) };
  }
};
