import type { BlobRef, Image } from "../image/image.js";
import type { JsonValue } from "../shared/json.js";
import { foldText, wordsOf } from "./fold.js";

/** What search reads of an image. */
export type SearchableImage = Pick<Image, "title" | "description" | "filename" | "albumId" | "infos" | "metadatas"> & {
  readonly blob: Pick<BlobRef, "format">;
};

/**
 * One searchable value: a title, a description, a filename, one tag or one metadatas leaf. A phrase
 * matches words in sequence within a single line, never across two.
 */
export interface SearchLine {
  /** `title`, `description`, `filename`, `tag`, `meta.<folded key>`, or `meta` for a key no query can name. */
  readonly field: string;
  readonly words: readonly string[];
}

/** An image as search sees it; `searchDocument` is its storable form. */
export interface SearchIndex {
  readonly lexemes: ReadonlySet<string>;
  readonly lines: readonly SearchLine[];
  /** The folded filename, punctuation kept, for substring matching. */
  readonly filename: string;
}

/**
 * What a database stores per image so that plain SQL can search it; everything is already folded.
 * - `lexemes`: sorted and unique. Every word of every line (`cafe`), the words of title, description,
 *   filename and of each nameable metadatas key qualified by their field (`title:cafe`, `meta.color:red`),
 *   and whole values: `tag:<tag's words, space-separated>`, `format:<format>`, `album_id:<id as is>`.
 *   Words never contain `:`, so the kinds cannot collide.
 * - `text`: one line per SearchLine, `<field>\t <word> <word> `, joined by `\n`; a phrase is then
 *   ` w1 w2 ` inside a line, and never spans a line break.
 * - `filename`: the folded filename.
 */
export interface SearchDocument {
  readonly lexemes: readonly string[];
  readonly text: string;
  readonly filename: string;
}

/** The line field of a metadatas key, or undefined when no query can name that key. */
export const metadatasLineField = (key: string): string | undefined => {
  const folded = foldText(key);
  return folded === "" || /[\s\p{C}]/u.test(folded) ? undefined : `meta.${folded}`;
};

const leaves = (value: JsonValue): string[] => {
  if (value === null) return [];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (typeof value === "object") return Object.values(value).flatMap(leaves);
  return [String(value)];
};

const tagsOf = (image: SearchableImage): string[] => {
  const tags = image.infos["tags"];
  return Array.isArray(tags) ? tags.flatMap((t) => (typeof t === "string" || typeof t === "number" ? [String(t)] : [])) : [];
};

/** The lexeme prefix of a line's words when queries can target its field, e.g. `title:`. */
const QUALIFIED = (field: string): boolean => field !== "tag" && field !== "meta";

export const searchIndex = (image: SearchableImage): SearchIndex => {
  const lines: SearchLine[] = [];
  const lexemes = new Set<string>();
  const add = (field: string, value: string | null): string[] => {
    const words = value === null ? [] : wordsOf(value);
    if (words.length > 0) lines.push({ field, words });
    return words;
  };
  add("title", image.title);
  add("description", image.description);
  add("filename", image.filename);
  for (const tag of tagsOf(image)) {
    const words = add("tag", tag);
    if (words.length > 0) lexemes.add(`tag:${words.join(" ")}`);
  }
  for (const [key, value] of Object.entries(image.metadatas)) {
    const field = metadatasLineField(key) ?? "meta";
    for (const leaf of leaves(value)) add(field, leaf);
  }
  for (const line of lines)
    for (const word of line.words) {
      lexemes.add(word);
      if (QUALIFIED(line.field)) lexemes.add(`${line.field}:${word}`);
    }
  const format = wordsOf(image.blob.format);
  if (format.length > 0) lexemes.add(`format:${format.join(" ")}`);
  lexemes.add(`album_id:${image.albumId}`);
  return { lexemes, lines, filename: foldText(image.filename) };
};

/** The storable form of `searchIndex(image)`; deterministic, so equal images store equal documents. */
export const searchDocument = (image: SearchableImage): SearchDocument => {
  const index = searchIndex(image);
  return {
    lexemes: [...index.lexemes].sort(),
    text: index.lines.map((l) => `${l.field}\t ${l.words.join(" ")} `).join("\n"),
    filename: index.filename,
  };
};
