import { searchIndex, type SearchableImage, type SearchIndex } from "./document.js";
import { searchPlan, type SearchOptions, type SearchPredicate } from "./plan.js";
import type { SearchQuery } from "./query.js";

const inSequence = (line: readonly string[], words: readonly string[]): boolean => {
  for (let start = 0; start + words.length <= line.length; start++) if (words.every((w, i) => line[start + i] === w)) return true;
  return false;
};

export const satisfies = (index: SearchIndex, predicate: SearchPredicate): boolean => {
  switch (predicate._tag) {
    case "All":
      return true;
    case "Lexemes":
      return predicate.lexemes.every((l) => index.lexemes.has(l));
    case "Phrase":
      return index.lines.some((l) => (predicate.line === null || l.field === predicate.line) && inSequence(l.words, predicate.words));
    case "FilenameContains":
      return index.filename.includes(predicate.needle);
    case "Not":
      return !satisfies(index, predicate.predicate);
    case "And":
      return predicate.predicates.every((p) => satisfies(index, p));
    case "Or":
      return predicate.predicates.some((p) => satisfies(index, p));
  }
};

/** A reusable test for one query: plans it once, then indexes each image it is given. */
export const searchMatcher = (query: SearchQuery, options: SearchOptions): ((image: SearchableImage) => boolean) => {
  const plan = searchPlan(query, options);
  return (image) => satisfies(searchIndex(image), plan);
};

/** Whether `image` matches `query`: the in-memory counterpart of the SQL the database adapters compile. */
export const matchesQuery = (image: SearchableImage, query: SearchQuery, options: SearchOptions): boolean =>
  searchMatcher(query, options)(image);
