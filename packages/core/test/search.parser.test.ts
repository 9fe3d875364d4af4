import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  MAX_QUERY_DEPTH,
  MAX_QUERY_LENGTH,
  MAX_QUERY_TERMS,
  parseQuery,
  queryInvalid,
  type QueryError,
  type SearchField,
  type SearchQuery,
} from "../src/index.js";

const parsed = (q: string): SearchQuery => {
  const r = parseQuery(q);
  if (E.isLeft(r)) throw new Error(`${q}: ${r.left.message}`);
  return r.right;
};
const failure = (q: string): QueryError => {
  const r = parseQuery(q);
  if (E.isRight(r)) throw new Error(`${q} parsed as ${JSON.stringify(r.right)}`);
  return r.left;
};

/** The query's shape without positions, in a compact notation: `(a & (b | !c))`. */
const shape = (q: SearchQuery): string => {
  const field = (f: SearchField | null) => (f === null ? "" : f.kind === "metadatas" ? `metadatas.${f.key}:` : `${f.kind}:`);
  switch (q._tag) {
    case "All":
      return "*";
    case "Term":
      return `${field(q.field)}${q.text}`;
    case "Phrase":
      return `${field(q.field)}"${q.text}"`;
    case "Not":
      return `!${shape(q.query)}`;
    case "And":
      return `(${q.queries.map(shape).join(" & ")})`;
    case "Or":
      return `(${q.queries.map(shape).join(" | ")})`;
  }
};
const s = (q: string): string => shape(parsed(q));

describe("search query parser: forms", () => {
  it("parses * as everything, alone or as an operand", () => {
    expect(parsed("*")).toEqual({ _tag: "All", position: 0 });
    expect(parsed("  *  ")).toEqual({ _tag: "All", position: 2 });
    expect(s("* -cat")).toBe("(* & !cat)");
  });

  it("parses bare terms, keeping their text and start position", () => {
    expect(parsed("Café")).toEqual({ _tag: "Term", field: null, text: "Café", position: 0 });
    expect(parsed("big  cat")).toEqual({
      _tag: "And",
      queries: [
        { _tag: "Term", field: null, text: "big", position: 0 },
        { _tag: "Term", field: null, text: "cat", position: 5 },
      ],
    });
    // Punctuation inside a term stays part of it; the matcher splits it into words.
    expect(s("IMG_0042.jpg foo-bar")).toBe("(IMG_0042.jpg & foo-bar)");
  });

  it("parses quoted phrases, with backslash escapes", () => {
    expect(parsed('"big cat"')).toEqual({ _tag: "Phrase", field: null, text: "big cat", position: 0 });
    expect(s('"say \\"hi\\" now"')).toBe('"say "hi" now"');
    expect(s('dog "big cat"')).toBe('(dog & "big cat")');
  });

  it("parses every field, as field:term and field:\"phrase\"", () => {
    expect(parsed("title:cat")).toEqual({ _tag: "Term", field: { kind: "title" }, text: "cat", position: 0 });
    expect(parsed('x description:"big cat"')).toEqual({
      _tag: "And",
      queries: [
        { _tag: "Term", field: null, text: "x", position: 0 },
        { _tag: "Phrase", field: { kind: "description" }, text: "big cat", position: 2 },
      ],
    });
    expect(s("filename:superplophey.jpg")).toBe("filename:superplophey.jpg");
    expect(s("album_id:00100000123BB124")).toBe("album_id:00100000123BB124");
    expect(s("tag:summer format:PNG")).toBe("(tag:summer & format:PNG)");
    expect(parsed("metadatas.Color:red")).toEqual({ _tag: "Term", field: { kind: "metadatas", key: "Color" }, text: "red", position: 0 });
    expect(s('metadatas.shot.lens:"50 mm"')).toBe('metadatas.shot.lens:"50 mm"');
  });

  it("reads field names case-insensitively and splits at the first colon only", () => {
    expect(s("Title:cat")).toBe("title:cat");
    expect(s("album_id:a:b")).toBe("album_id:a:b");
    expect(s("album_id:a\\ b")).toBe("album_id:a b");
  });

  it("reads escaped specials as literal characters of a term", () => {
    expect(s("\\(cat\\)")).toBe("(cat)");
    expect(s("foo\\:bar")).toBe("foo:bar");
    expect(s("\\-cat")).toBe("-cat");
    expect(s("\\AND")).toBe("AND");
  });

  it("parses NOT and its short form -, on terms, phrases, fields and groups", () => {
    expect(parsed("NOT cat")).toEqual({ _tag: "Not", query: { _tag: "Term", field: null, text: "cat", position: 4 } });
    expect(parsed("-cat")).toEqual({ _tag: "Not", query: { _tag: "Term", field: null, text: "cat", position: 1 } });
    expect(s('-"big cat"')).toBe('!"big cat"');
    expect(s("-title:cat")).toBe("!title:cat");
    expect(s("-(a OR b)")).toBe("!(a | b)");
    expect(s("--a")).toBe("!!a");
    expect(s("NOT NOT a")).toBe("!!a");
    // A hyphen inside a term is not a negation.
    expect(s("a-b")).toBe("a-b");
  });

  it("treats lower-case and, or, not as ordinary terms", () => {
    expect(s("cats and dogs or not")).toBe("(cats & and & dogs & or & not)");
  });

  it("parses parentheses, flattening nested groups of the same operator", () => {
    expect(s("(a b) c")).toBe("(a & b & c)");
    expect(s("((a))")).toBe("a");
    expect(s("(a OR b) (c OR d)")).toBe("((a | b) & (c | d))");
    expect(s("a OR (b OR c)")).toBe("(a | b | c)");
  });
});

describe("search query parser: precedence", () => {
  it("AND, explicit or implicit, binds tighter than OR", () => {
    expect(s("a b OR c d")).toBe("((a & b) | (c & d))");
    expect(s("a AND b OR c")).toBe("((a & b) | c)");
    expect(s("a OR b AND c")).toBe("(a | (b & c))");
    expect(s("a OR b c")).toBe("(a | (b & c))");
  });

  it("NOT binds tighter than AND and OR", () => {
    expect(s("NOT a b")).toBe("(!a & b)");
    expect(s("NOT a OR b")).toBe("(!a | b)");
    expect(s("a OR -b c")).toBe("(a | (!b & c))");
    expect(s("NOT (a OR b) c")).toBe("(!(a | b) & c)");
  });

  it("explicit and implicit AND mean the same", () => {
    expect(s("a AND b AND c")).toBe(s("a b c"));
    expect(s("a AND b c")).toBe("(a & b & c)");
  });
});

describe("search query parser: errors", () => {
  const at = (q: string): [number, string] => {
    const e = failure(q);
    expect(e.reason).toBe("syntax");
    expect(e.message).toContain(`at position ${e.position}: expected ${e.expected}`);
    return [e.position, e.expected];
  };

  it("reports an empty query", () => {
    expect(at("")).toEqual([0, 'a term, a phrase, "(" or "*"']);
    expect(at("   ")).toEqual([0, 'a term, a phrase, "(" or "*"']);
  });

  it("reports unknown fields at the field, naming the valid ones", () => {
    const e = failure("cat colour:red");
    expect(e.position).toBe(4);
    expect(e.expected).toBe("a field among title, description, filename, album_id, tag, format, metadatas.<key>");
    expect(e.message).toContain('unknown field "colour"');
    expect(at("metadatas.:red")[0]).toBe(10);
    expect(at("http://example.com")[0]).toBe(0);
  });

  it("reports a field without value where the value should start", () => {
    expect(at("title: cat")).toEqual([6, 'a term or a quoted phrase after "title:"']);
    expect(at("a tag:")).toEqual([6, 'a term or a quoted phrase after "tag:"']);
    expect(at("title:(a b)")[0]).toBe(6);
  });

  it("reports operators missing an operand", () => {
    expect(at("a AND")).toEqual([5, 'a term, a phrase, "(" or "*"']);
    expect(at("a OR OR b")[0]).toBe(5);
    expect(at("AND a")[0]).toBe(0);
    expect(at("a NOT")).toEqual([5, 'a term, a phrase, "(" or "*" after "NOT"']);
    expect(at("a - b")).toEqual([3, 'a term, a phrase, "(" or "*" directly after "-"']);
    expect(at("a -")[0]).toBe(3);
  });

  it("reports unbalanced parentheses", () => {
    expect(at("(a b")).toEqual([4, '")" closing the "(" at position 0']);
    expect(at("a (b (c)")).toEqual([8, '")" closing the "(" at position 2']);
    expect(at("a b)")).toEqual([3, 'the end of the query (no "(" is open)']);
    expect(at("()")[0]).toBe(1);
  });

  it("reports an unterminated phrase at the end, naming where it opened", () => {
    expect(at('a "big cat')).toEqual([10, 'a closing " for the phrase opened at position 2']);
    expect(at('title:"big')).toEqual([10, 'a closing " for the phrase opened at position 6']);
  });

  it("refuses values that cannot match a word", () => {
    expect(at("!!!")).toEqual([0, "a term containing a letter or digit"]);
    expect(at('a ""')).toEqual([2, "a phrase containing a letter or digit"]);
    expect(at("title:...")).toEqual([6, "a term containing a letter or digit"]);
  });

  it("refuses wildcards other than a lone *", () => {
    expect(at("pl*p")).toEqual([2, "a term without wildcards"]);
    expect(at("title:*")[0]).toBe(6);
    expect(s("pl\\*p")).toBe("pl*p");
  });

  it("refuses a dangling escape and control characters", () => {
    expect(at("cat\\")).toEqual([4, 'a character after the escape "\\"']);
    expect(at("a\u0000b")).toEqual([1, "printable characters"]);
  });

  it("counts positions in characters, not UTF-16 units", () => {
    expect(at("a😀 b😀 )")[0]).toBe(6);
  });
});

describe("search query parser: limits", () => {
  it(`accepts ${MAX_QUERY_LENGTH} characters and refuses one more`, () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");
    const long = `"${"a".repeat(MAX_QUERY_LENGTH - 2)}"`;
    expect(E.isRight(parseQuery(long))).toBe(true);
    const e = failure(`${long}x`);
    expect(e).toMatchObject({ reason: "limit", position: MAX_QUERY_LENGTH, expected: `at most ${MAX_QUERY_LENGTH} characters` });
    expect(E.isRight(parseQuery(words(MAX_QUERY_TERMS)))).toBe(true);
  });

  it(`refuses more than ${MAX_QUERY_TERMS} terms, at the first one too many`, () => {
    const terms = Array.from({ length: MAX_QUERY_TERMS + 1 }, (_, i) => `t${i}`);
    const e = failure(terms.join(" OR "));
    const position = terms.slice(0, MAX_QUERY_TERMS).join(" OR ").length + " OR ".length;
    expect(e).toMatchObject({ reason: "limit", position, expected: `at most ${MAX_QUERY_TERMS} terms` });
  });

  it(`refuses nesting deeper than ${MAX_QUERY_DEPTH}`, () => {
    const nested = (n: number) => `${"(".repeat(n)}a${")".repeat(n)}`;
    expect(s(nested(MAX_QUERY_DEPTH))).toBe("a");
    expect(failure(nested(MAX_QUERY_DEPTH + 1))).toMatchObject({ reason: "limit", position: MAX_QUERY_DEPTH });
    expect(failure(`${"-".repeat(MAX_QUERY_DEPTH + 1)}a`)).toMatchObject({ reason: "limit", position: MAX_QUERY_DEPTH });
  });

  it("converts to an Invalid on the q parameter, for a 422", () => {
    const e = failure("a AND");
    expect(queryInvalid(e)).toEqual({
      _tag: "Invalid",
      message: `q: ${e.message}`,
      issues: [{ field: "q", message: e.message }],
    });
  });
});
