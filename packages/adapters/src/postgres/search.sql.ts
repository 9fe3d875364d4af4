import {
  searchDocument,
  searchPlan,
  type AlbumId,
  type JsonObject,
  type SearchableImage,
  type SearchOptions,
  type SearchPredicate,
  type SearchQuery,
  type Unavailable,
} from "@image-api/core";
import * as TE from "fp-ts/lib/TaskEither.js";
import type { SqlExecutor } from "./sql-client.js";
import { toUnavailable } from "./sql-errors.js";

/*
 * Search over `images` with core SQL only: PGlite has neither unaccent nor a locale-aware lower(), so
 * folding happens in the core (`searchDocument`) when a row is written and when a query is compiled,
 * and the database compares already-folded strings. Server Postgres and PGlite then agree exactly.
 */

/** The columns `searchColumns` fills, in its order. */
export const SEARCH_COLUMN_NAMES = ["search_lexemes", "search_text", "filename_folded"] as const;

/**
 * Adds the search columns and their indexes to `images`. Runs on server Postgres (15+) and PGlite.
 *
 * - `search_lexemes text[]`: GIN-indexed; terms are `@>` tests on it.
 * - `search_text text`: one line per searchable value, for phrases (words in sequence within one value).
 * - `filename_folded text`: for `version=2` substring matches, `LIKE '%…%'`. When the `pg_trgm` extension
 *   can be installed (it is trusted: a database owner needs no superuser), a trigram GIN index serves those
 *   LIKEs; where it cannot (PGlite without the contrib bundle, no privilege) the migration carries on
 *   without it and substring search scans. The operator class is schema-qualified, as the extension may
 *   already live in a schema outside the search path.
 *
 * Rows written before this migration keep NULL columns: folding is JavaScript's (NFD, Unicode letter
 * classes), which SQL cannot reproduce on both engines, so `backfillSearchColumns` fills them from the
 * core's `searchDocument`. Until then such a row matches only `*`; the partial index lets the backfill
 * find it without a scan.
 */
export const SEARCH_MIGRATION_SQL = `
ALTER TABLE images ADD COLUMN search_lexemes text[];
ALTER TABLE images ADD COLUMN search_text text;
ALTER TABLE images ADD COLUMN filename_folded text;
CREATE INDEX images_search_lexemes_idx ON images USING gin (search_lexemes);
CREATE INDEX images_search_pending_idx ON images (id) WHERE search_lexemes IS NULL;
DO $$
DECLARE
  trgm_schema name;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'pg_trgm could not be installed (%): filename substring search will not be indexed', SQLERRM;
    END;
  END IF;
  SELECT n.nspname INTO trgm_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'pg_trgm';
  IF trgm_schema IS NOT NULL THEN
    EXECUTE format('CREATE INDEX images_filename_trgm_idx ON images USING gin (filename_folded %I.gin_trgm_ops)', trgm_schema);
  END IF;
END
$$;
`;

/** Values for SEARCH_COLUMN_NAMES, in order, to write with every INSERT and UPDATE of the image. */
export const searchColumns = (image: SearchableImage): [lexemes: string[], text: string, filenameFolded: string] => {
  const doc = searchDocument(image);
  return [[...doc.lexemes], doc.text, doc.filename];
};

/** `search_lexemes = $first, search_text = $first+1, filename_folded = $first+2`, for an UPDATE's SET list. */
export const searchAssignments = (first: number): string => SEARCH_COLUMN_NAMES.map((c, i) => `${c} = $${first + i}`).join(", ");

export interface CompileSearchOptions extends SearchOptions {
  /** Number of the first placeholder, so the fragment can follow the statement's own parameters. */
  readonly firstParam: number;
}

export interface CompiledSearch {
  /** A boolean SQL expression over `images` aliased `i`. */
  readonly where: string;
  /** Values for `$firstParam…`, in order. */
  readonly params: unknown[];
}

/** LIKE's wildcards and its escape character (backslash, Postgres's default), made literal. */
const likeLiteral = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * A Postgres regular expression matching `s` literally. In an ARE a backslash before a non-alphanumeric
 * character makes it literal; letters and digits (and any non-ASCII character) are literal already.
 */
const regexLiteral = (s: string): string => s.replace(/[^A-Za-z0-9\u0080-\u{10FFFF}]/gu, (c) => `\\${c}`);

/** Where the words of a phrase sit in `search_text`: padded by spaces, which only ever separate words of one line. */
const phraseNeedle = (words: readonly string[]): string => ` ${words.join(" ")} `;

/**
 * Compiles a query to a WHERE fragment over alias `i`. Every value from the query is a bind parameter.
 * Terms are `search_lexemes @> $n::text[]` (GIN); phrases add a test on `search_text`; substrings are a LIKE
 * on `filename_folded` (trigram index when present). Rows without search columns yet (see
 * SEARCH_MIGRATION_SQL) compare as NULL, so they match only `*`, with or without NOT.
 */
export const compileSearch = (query: SearchQuery, options: CompileSearchOptions): CompiledSearch => {
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${options.firstParam + params.length - 1}`;
  };
  const sql = (p: SearchPredicate): string => {
    switch (p._tag) {
      case "All":
        return "TRUE";
      case "Lexemes":
        return `i.search_lexemes @> ${param([...p.lexemes])}::text[]`;
      case "Phrase":
        return p.line === null
          ? `strpos(i.search_text, ${param(phraseNeedle(p.words))}) > 0`
          : // The line's field, then anything but a line break, then the words.
            `i.search_text ~ ${param(`(^|\n)${regexLiteral(p.line)}\t[^\n]*${phraseNeedle(p.words)}`)}`;
      case "FilenameContains":
        return `i.filename_folded LIKE ${param(`%${likeLiteral(p.needle)}%`)}`;
      case "Not":
        return `NOT (${sql(p.predicate)})`;
      case "And":
        return `(${p.predicates.map(sql).join(" AND ")})`;
      case "Or":
        return `(${p.predicates.map(sql).join(" OR ")})`;
    }
  };
  const where = sql(searchPlan(query, options));
  return { where, params };
};

interface PendingRow {
  [column: string]: unknown;
  id: string;
  version: number;
  title: string | null;
  description: string | null;
  filename: string;
  album_id: string;
  infos: JsonObject;
  metadatas: JsonObject;
  blob_format: string;
}

/**
 * Fills the search columns of rows that have none (written before SEARCH_MIGRATION_SQL), `batchSize` at a
 * time, and returns how many it filled. Safe alongside live traffic and other instances: a row is only
 * written if it is still unindexed and at the version read, so a concurrent edit (which writes its own
 * search columns) is never overwritten with stale text. Run it after migrating; it is a no-op once done.
 */
export const backfillSearchColumns = (client: SqlExecutor, options: { readonly batchSize?: number } = {}): TE.TaskEither<Unavailable, number> =>
  TE.tryCatch(async () => {
    const batchSize = Math.max(1, Math.floor(options.batchSize ?? 500));
    let filled = 0;
    for (;;) {
      const { rows } = await client.query<PendingRow>(
        `SELECT i.id, i.version, i.title, i.description, i.filename, i.album_id, i.infos, i.metadatas, b.format AS blob_format
           FROM images i JOIN blobs b ON b.key = i.blob_key
          WHERE i.search_lexemes IS NULL
          ORDER BY i.id
          LIMIT $1`,
        [batchSize],
      );
      let written = 0;
      for (const row of rows) {
        const image: SearchableImage = {
          title: row.title,
          description: row.description,
          filename: row.filename,
          albumId: row.album_id as AlbumId,
          infos: row.infos,
          metadatas: row.metadatas,
          blob: { format: row.blob_format },
        };
        const result = await client.query(
          `UPDATE images SET ${searchAssignments(3)} WHERE id = $1 AND version = $2 AND search_lexemes IS NULL`,
          [row.id, row.version, ...searchColumns(image)],
        );
        written += result.rowCount;
      }
      filled += written;
      // A short batch was the last; a batch that wrote nothing was entirely edited meanwhile: the next
      // run picks those rows up at their new version rather than this one spinning on them.
      if (rows.length < batchSize || written === 0) return filled;
    }
  }, toUnavailable);
