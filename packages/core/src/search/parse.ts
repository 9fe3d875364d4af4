import * as E from "fp-ts/lib/Either.js";
import { wordsOf } from "./fold.js";
import {
  MAX_QUERY_DEPTH,
  MAX_QUERY_LENGTH,
  MAX_QUERY_TERMS,
  queryError,
  type QueryError,
  type SearchField,
  type SearchQuery,
} from "./query.js";

/*
 * Grammar (a subset of Elasticsearch's query_string), lowest precedence first:
 *
 *   query   := or EOF
 *   or      := and ("OR" and)*
 *   and     := unary (["AND"] unary)*          -- juxtaposition is AND
 *   unary   := ("NOT" | "-") unary | primary     -- "-" is written against its operand
 *   primary := "(" or ")" | "*" | [field ":"] (term | phrase)
 *
 * A term is a run of characters other than whitespace, parentheses and `"`; a phrase is quoted. A
 * backslash makes the next character literal in both. Inside a term, the first unescaped `:` ends a
 * field name, so a value may itself contain colons (`album_id:a:b`). `AND`, `OR` and `NOT` are operators
 * only in upper case. Positions are offsets in code points, so an emoji counts as one character.
 */

const SIMPLE_FIELDS = new Set(["title", "description", "filename", "album_id", "tag", "format"] as const);
const FIELD_LIST = "a field among title, description, filename, album_id, tag, format, metadatas.<key>";
const OPERAND = 'a term, a phrase, "(" or "*"';

type Leaf = { readonly field: SearchField | null; readonly text: string; readonly position: number };

type Token =
  | { readonly t: "(" | ")" | "AND" | "OR" | "NOT" | "-" | "*" | "eof"; readonly pos: number }
  | ({ readonly t: "term" | "phrase"; readonly pos: number } & Leaf);

class Failure {
  constructor(readonly error: QueryError) {}
}
const fail = (position: number, expected: string, detail?: string, reason: QueryError["reason"] = "syntax"): never => {
  throw new Failure(queryError(reason, position, expected, detail));
};

const isSpace = (c: string): boolean => /^\s$/u.test(c);
const isControl = (c: string): boolean => /^\p{Cc}$/u.test(c) && !isSpace(c);
const ends = (c: string): boolean => isSpace(c) || c === "(" || c === ")" || c === '"';

const resolveField = (name: string, position: number): SearchField => {
  const lower = name.toLowerCase();
  if (SIMPLE_FIELDS.has(lower as never)) return { kind: lower as "title" };
  if (lower.startsWith("metadatas.")) {
    const key = name.slice("metadatas.".length);
    if (key === "") return fail(position + "metadatas.".length, "a metadatas key after \"metadatas.\"");
    if (/[\s\p{C}]/u.test(key)) return fail(position, "a metadatas key without whitespace or control characters");
    return { kind: "metadatas", key };
  }
  return fail(position, FIELD_LIST, `found unknown field "${name}"`);
};

/** Every value must be able to match something: text fields need a word, album ids a character. */
const checkValue = (field: SearchField | null, text: string, position: number, phrase: boolean): void => {
  if (field?.kind === "album_id" ? text === "" : wordsOf(text).length === 0)
    fail(position, phrase ? "a phrase containing a letter or digit" : "a term containing a letter or digit");
};

const tokenize = (cs: readonly string[]): Token[] => {
  const tokens: Token[] = [];
  let i = 0;

  const readPhrase = (open: number): string => {
    let text = "";
    let j = open + 1;
    for (;;) {
      const c = cs[j];
      if (c === undefined) return fail(cs.length, `a closing " for the phrase opened at position ${open}`);
      if (c === '"') break;
      if (c === "\\") {
        const next = cs[j + 1];
        if (next === undefined) return fail(cs.length, `a closing " for the phrase opened at position ${open}`);
        text += next;
        j += 2;
      } else {
        text += c;
        j += 1;
      }
    }
    i = j + 1;
    return text;
  };

  while (i < cs.length) {
    const c = cs[i]!;
    if (isSpace(c)) {
      i += 1;
      continue;
    }
    const pos = i;
    if (c === "(" || c === ")") {
      tokens.push({ t: c, pos });
      i += 1;
      continue;
    }
    if (c === '"') {
      const text = readPhrase(pos);
      checkValue(null, text, pos, true);
      tokens.push({ t: "phrase", pos, field: null, text, position: pos });
      continue;
    }
    if (c === "-") {
      const next = cs[i + 1];
      if (next === undefined || isSpace(next) || next === ")") fail(i + 1, `${OPERAND} directly after "-"`);
      tokens.push({ t: "-", pos });
      i += 1;
      continue;
    }

    // A run: a term, an operator, `*`, or `field:` followed by a term or a phrase.
    let run = "";
    let raw = true;
    let colon = -1;
    let colonPos = -1;
    let star = -1;
    while (i < cs.length && !ends(cs[i]!)) {
      const ch = cs[i]!;
      if (ch === "\\") {
        const next = cs[i + 1];
        if (next === undefined) fail(i + 1, 'a character after the escape "\\"');
        run += next;
        raw = false;
        i += 2;
        continue;
      }
      if (ch === ":" && colon < 0) {
        colon = run.length;
        colonPos = i;
      } else if (ch === "*" && star < 0) star = i;
      run += ch;
      i += 1;
    }
    if (raw && (run === "AND" || run === "OR" || run === "NOT" || run === "*")) {
      tokens.push({ t: run, pos });
      continue;
    }
    if (star >= 0) fail(star, "a term without wildcards", 'only a lone "*" is supported, matching everything');
    if (colon < 0) {
      checkValue(null, run, pos, false);
      tokens.push({ t: "term", pos, field: null, text: run, position: pos });
      continue;
    }
    const field = resolveField(run.slice(0, colon), pos);
    const value = run.slice(colon + 1);
    if (value !== "") {
      checkValue(field, value, colonPos + 1, false);
      tokens.push({ t: "term", pos, field, text: value, position: pos });
    } else if (cs[i] === '"') {
      const open = i;
      const text = readPhrase(open);
      checkValue(field, text, open, true);
      tokens.push({ t: "phrase", pos, field, text, position: pos });
    } else {
      fail(i, `a term or a quoted phrase after "${run}"`);
    }
  }
  tokens.push({ t: "eof", pos: cs.length });
  return tokens;
};

const describe = (t: Token): string =>
  t.t === "eof" ? "found the end of the query" : t.t === "term" || t.t === "phrase" ? `found ${t.t} "${t.text}"` : `found "${t.t}"`;

const STARTS_OPERAND = new Set<Token["t"]>(["(", "*", "term", "phrase", "NOT", "-"]);

const flatten = (tag: "And" | "Or", queries: SearchQuery[]): SearchQuery => {
  if (queries.length === 1) return queries[0]!;
  const flat = queries.flatMap((q) => (q._tag === tag ? q.queries : [q]));
  return tag === "And" ? { _tag: "And", queries: flat } : { _tag: "Or", queries: flat };
};

const parseTokens = (tokens: readonly Token[]): SearchQuery => {
  let k = 0;
  let leaves = 0;
  const peek = (): Token => tokens[k]!;
  const deeper = (depth: number, pos: number): number =>
    depth + 1 > MAX_QUERY_DEPTH ? fail(pos, `at most ${MAX_QUERY_DEPTH} nested parentheses and negations`, undefined, "limit") : depth + 1;

  const countLeaf = (pos: number): void => {
    leaves += 1;
    if (leaves > MAX_QUERY_TERMS) fail(pos, `at most ${MAX_QUERY_TERMS} terms`, undefined, "limit");
    k += 1;
  };

  const or = (depth: number): SearchQuery => {
    const parts = [and(depth)];
    while (peek().t === "OR") {
      k += 1;
      parts.push(and(depth));
    }
    return flatten("Or", parts);
  };

  const and = (depth: number): SearchQuery => {
    const parts = [unary(depth)];
    for (;;) {
      const t = peek();
      if (t.t === "AND") {
        k += 1;
        parts.push(unary(depth));
      } else if (STARTS_OPERAND.has(t.t)) parts.push(unary(depth));
      else break;
    }
    return flatten("And", parts);
  };

  const unary = (depth: number): SearchQuery => {
    const t = peek();
    if (t.t === "NOT" || t.t === "-") {
      k += 1;
      const next = peek();
      if (!STARTS_OPERAND.has(next.t)) fail(next.pos, `${OPERAND} after "${t.t}"`, describe(next));
      return { _tag: "Not", query: unary(deeper(depth, t.pos)) };
    }
    return primary(depth);
  };

  const primary = (depth: number): SearchQuery => {
    const t = peek();
    switch (t.t) {
      case "(": {
        k += 1;
        const inner = or(deeper(depth, t.pos));
        const close = peek();
        if (close.t !== ")") fail(close.pos, `")" closing the "(" at position ${t.pos}`, describe(close));
        k += 1;
        return inner;
      }
      case "*":
        countLeaf(t.pos);
        return { _tag: "All", position: t.pos };
      case "term":
      case "phrase":
        countLeaf(t.pos);
        return { _tag: t.t === "term" ? "Term" : "Phrase", field: t.field, text: t.text, position: t.position };
      default:
        return fail(t.pos, OPERAND, describe(t));
    }
  };

  if (peek().t === "eof") fail(0, OPERAND, "the query is empty");
  const query = or(0);
  const rest = peek();
  if (rest.t !== "eof")
    fail(rest.pos, rest.t === ")" ? 'the end of the query (no "(" is open)' : "AND, OR or the end of the query", describe(rest));
  return query;
};

/**
 * Parses a search query, or says where it stops making sense and what would have been valid there.
 * Queries longer than MAX_QUERY_LENGTH characters, with more than MAX_QUERY_TERMS terms or nested deeper
 * than MAX_QUERY_DEPTH are refused with reason `limit`.
 */
export const parseQuery = (query: string): E.Either<QueryError, SearchQuery> => {
  const cs = [...query];
  if (cs.length > MAX_QUERY_LENGTH) return E.left(queryError("limit", MAX_QUERY_LENGTH, `at most ${MAX_QUERY_LENGTH} characters`));
  const control = cs.findIndex(isControl);
  if (control >= 0) return E.left(queryError("syntax", control, "printable characters", "found a control character"));
  try {
    return E.right(parseTokens(tokenize(cs)));
  } catch (e) {
    if (e instanceof Failure) return E.left(e.error);
    throw e;
  }
};
