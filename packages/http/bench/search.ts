/**
 * The `search` case: `GET /api/v1/search` over a tenant of BENCH_SEARCH_IMAGES images (100,000) in
 * BENCH_SEARCH_ALBUMS albums (1,000), one request at a time with a search token for the whole tenant
 * (`q: "*"`), the queries interleaved:
 *   word       a title word one image in a hundred has (~1,000 hits), the default page of 100
 *   rare       a description word of ten images
 *   substring  `version=2`, a piece of a longer word in one filename in a hundred
 *   all        `q=*`, the whole tenant's first page
 * and, to tell the page's size from the search's cost, the word query with `per_page=10`.
 * The corpus is written in one INSERT … SELECT over generate_series, copying an uploaded row; its search
 * columns are computed in SQL from the generated ASCII titles, descriptions, filenames, tags and metadatas,
 * then a sample of rows, read back through the repository, is checked against `searchColumns()`: the case
 * fails when one differs. Every query's X-Total-Count is checked against the generator's own count, and
 * the statements the repository sends for each query are EXPLAINed (ANALYZE, BUFFERS). Where a request's time
 * goes is measured in this process on the service's own composition: the search command on the repository
 * (both statements through the driver, rows mapped), the page's presentation (its signed URLs) and its JSON.
 */
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { createPgliteClient, createPgPoolClient, postgresImageRepository, type SqlClient, type SqlExecutor } from "@image-api/adapters";
import { searchImages, type Claims, type ImageId, type SearchableImage, type TenantId } from "@image-api/core";
import { loadConfig } from "../src/config.js";
import { compose } from "../src/container.js";
import { presentImage } from "../src/present/image.presenter.js";
import type { Databases, Statement } from "./database.js";
import { ALBUM, SECRETS_ENV, tinyPng, upload } from "./fixtures.js";
import { percentile, send, sequential, summarize, type SequentialSummary } from "./load.js";
import { startProcess, type ServerProcess } from "./processes.js";

/** What the corpus is made of: every generated string is ASCII, so SQL's lower() and split fold it as the core does. */
export const VOCABULARY = {
  // 100 title adjectives: each one is in one image in a hundred.
  adjectives: [
    "amber", "ancient", "arctic", "autumn", "azure", "balmy", "bitter", "blazing", "bleak", "blue",
    "bold", "breezy", "bright", "brisk", "bronze", "calm", "candid", "chilly", "civic", "clear",
    "cloudy", "coastal", "cobalt", "cold", "copper", "cosmic", "crimson", "crisp", "dappled", "dark",
    "dawn", "deep", "dense", "distant", "dreamy", "dusky", "dusty", "early", "eastern", "electric",
    "emerald", "empty", "faded", "fierce", "foggy", "frosty", "gentle", "gilded", "glassy", "golden",
    "grand", "green", "grey", "hazy", "hidden", "hollow", "humid", "icy", "idle", "indigo",
    "ivory", "jade", "late", "lazy", "lilac", "lively", "lonely", "lucid", "lunar", "misty",
    "molten", "mossy", "muted", "narrow", "noble", "northern", "ochre", "olive", "pale", "pastel",
    "quiet", "rainy", "rapid", "rosy", "rugged", "rustic", "sandy", "scarlet", "shady", "silent",
    "silver", "sleepy", "smoky", "snowy", "solar", "sombre", "stormy", "sunny", "tidal", "vivid",
  ],
  nouns: [
    "harbour", "meadow", "canyon", "glacier", "lagoon", "orchard", "valley", "summit", "forest", "river",
    "island", "desert", "market", "bridge", "temple", "garden", "tower", "station", "beach", "cliff",
    "village", "castle", "lighthouse", "vineyard", "waterfall", "alley", "plaza", "pier", "dune", "marsh",
    "quarry", "reef", "ridge", "steppe", "tundra", "volcano", "wharf", "grove", "fjord", "delta",
  ],
  // Three of them make a place name: 22³ = 10,648 names, each in the descriptions of ten consecutive images.
  syllables: ["ka", "lo", "mi", "ru", "te", "vo", "zi", "ba", "ne", "su", "do", "fa", "gi", "ho", "ju", "pe", "ri", "sa", "to", "wu", "xe", "yo"],
  cameras: ["Nikon Z6", "Canon EOS R5", "Sony A7 III", "Fujifilm X-T4", "Pixel 8 Pro"],
  // One filename in a hundred starts with one of these; none is a word of its own elsewhere.
  plops: ["Kerplop", "Plopper", "Sploppy", "Replopt"],
} as const;

const RARE_EVERY = 10;
const PLOP_EVERY = 100;
const PLOP_AT = 42;

/** The generated image number `k` (0 is the newest), as the fill's SQL writes it. */
export const syntheticImage = (k: number, albums: number) => {
  const v = VOCABULARY;
  const w = Math.floor(k / RARE_EVERY);
  const s = v.syllables.length;
  const place = v.syllables[w % s]! + v.syllables[Math.floor(w / s) % s]! + v.syllables[Math.floor(w / (s * s)) % s]!;
  const pad = String(k).padStart(6, "0");
  return {
    album: `search-${String(k % albums).padStart(4, "0")}`,
    adjective: v.adjectives[(Math.floor(k / albums) + k) % v.adjectives.length]!,
    noun: v.nouns[Math.floor(k / v.adjectives.length) % v.nouns.length]!,
    place,
    camera: v.cameras[Math.floor(k / 7) % v.cameras.length]!,
    filename: k % PLOP_EVERY === PLOP_AT ? `${v.plops[Math.floor(k / PLOP_EVERY) % v.plops.length]!}_${pad}` : `IMG_${pad}`,
  };
};

/** `words(e)` of the core's wordsOf for ASCII text: lower-cased runs of letters and digits. */
const words = (e: string): string => `array_remove(regexp_split_to_array(lower(${e}), '[^a-z0-9]+'), '')`;

/**
 * Per generated row: the base values (`g`), then the search columns derived from them as `searchDocument`
 * does (see packages/core/src/search/document.ts): lines title, description, filename, one per tag, one per
 * metadatas leaf; lexemes every word, `<field>:<word>` but for tags, `tag:<words>`, `format:<words>`,
 * `album_id:<id>`, unique and in code-unit order (COLLATE "C" for ASCII).
 */
const GENERATED = `
  gen AS (
    SELECT k,
           'search-' || lpad((k % $3)::text, 4, '0') AS album_id,
           initcap(($4::text[])[1 + (k / $3 + k) % cardinality($4::text[])]) || ' ' ||
             initcap(($5::text[])[1 + (k / cardinality($4::text[])) % cardinality($5::text[])]) AS title,
           ($6::text[])[1 + (k / ${RARE_EVERY}) % cardinality($6::text[])] ||
             ($6::text[])[1 + (k / ${RARE_EVERY} / cardinality($6::text[])) % cardinality($6::text[])] ||
             ($6::text[])[1 + (k / ${RARE_EVERY} / cardinality($6::text[]) / cardinality($6::text[])) % cardinality($6::text[])] AS place,
           ($7::text[])[1 + (k / 7) % cardinality($7::text[])] AS camera,
           CASE WHEN k % ${PLOP_EVERY} = ${PLOP_AT}
                THEN ($8::text[])[1 + (k / ${PLOP_EVERY}) % cardinality($8::text[])] || '_' || lpad(k::text, 6, '0')
                ELSE 'IMG_' || lpad(k::text, 6, '0') END AS filename,
           src.created_at - k * interval '1 second' AS created_at
      FROM src, generate_series(0, $2::int - 1) k
  ),
  rows AS (
    SELECT g.*, 'Shot near ' || initcap(g.place) || '.' AS description, json_build_object('camera', g.camera) AS metadatas
      FROM gen g
  ),
  searchable AS (
    SELECT r.*, s.search_lexemes, s.search_text, lower(r.filename) AS filename_folded
      FROM rows r, src
     CROSS JOIN LATERAL (
       WITH lines(ord, field, words) AS (
         SELECT * FROM (VALUES
           (1, 'title', ${words("r.title")}),
           (2, 'description', ${words("r.description")}),
           (3, 'filename', ${words("r.filename")}),
           (4, 'tag', ${words("r.album_id")}),
           (5, 'meta.camera', ${words("r.camera")})
         ) l(ord, field, words)
         WHERE cardinality(words) > 0
       )
       SELECT
         (SELECT string_agg(field || E'\\t ' || array_to_string(words, ' ') || ' ', E'\\n' ORDER BY ord) FROM lines) AS search_text,
         ARRAY(
           SELECT x FROM (
             SELECT w AS x FROM lines, unnest(words) w
             UNION SELECT field || ':' || w FROM lines, unnest(words) w WHERE field NOT IN ('tag', 'meta')
             UNION SELECT 'tag:' || array_to_string(words, ' ') FROM lines WHERE field = 'tag'
             UNION SELECT 'format:' || array_to_string(f, ' ') FROM (SELECT ${words("src.blob_format")} AS f) fw WHERE cardinality(f) > 0
             UNION SELECT 'album_id:' || r.album_id
           ) u
           ORDER BY x COLLATE "C"
         ) AS search_lexemes
     ) s
  )`;

/** Generated values for the images' columns; every other column is copied from the source row. */
const OVERRIDES: Record<string, string> = {
  id: "gen_random_uuid()",
  album_id: "g.album_id",
  group_id: "NULL",
  filename: "g.filename",
  title: "g.title",
  description: "g.description",
  metadatas: "g.metadatas",
  // The upload's infos, in its key order, with this image's tags, name and time.
  infos: `(SELECT json_object_agg(e.key, CASE e.key
             WHEN 'tags' THEN json_build_array(g.album_id)
             WHEN 'original_filename' THEN to_json(g.filename)
             WHEN 'created_at' THEN to_json(to_char(g.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
             ELSE e.value END ORDER BY e.ord)
             FROM json_each(src.infos) WITH ORDINALITY e(key, value, ord))`,
  created_at: "g.created_at",
  updated_at: "g.created_at",
  search_lexemes: "g.search_lexemes",
  search_text: "g.search_text",
  filename_folded: "g.filename_folded",
};

export interface Corpus {
  readonly images: number;
  readonly albums: number;
}

/**
 * Replaces the source row with `images` generated ones on its blob (its reference count, where it counts,
 * raised to match, as that many duplicates would leave it), then vacuums and analyses.
 */
export const fillSearchCorpus = async (sql: SqlClient, sourceId: string, corpus: Corpus): Promise<number> => {
  const t0 = performance.now();
  const { rows: columns } = await sql.query<{ name: string }>(
    `SELECT column_name AS name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'images' ORDER BY ordinal_position`,
  );
  const names = columns.map((c) => c.name);
  for (const c of ["search_lexemes", "search_text", "filename_folded"]) if (!names.includes(c)) throw new Error(`images has no column ${c}: the search migration has not run`);
  const select = names.map((c) => OVERRIDES[c] ?? `src.${c}`).join(",\n       ");
  const v = VOCABULARY;
  await sql.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO images (${names.join(", ")})
       WITH src AS (SELECT i.*, b.format AS blob_format FROM images i JOIN blobs b ON b.key = i.blob_key WHERE i.id = $1),
       ${GENERATED}
       SELECT ${select}
         FROM searchable g, src`,
      [sourceId, corpus.images, corpus.albums, v.adjectives, v.nouns, v.syllables, v.cameras, v.plops],
    );
    // Where refs counts the images on a blob, it is raised to match; where it only says whether any image
    // holds the blob (a CHECK keeps it at 0 or 1), it already does.
    await tx.query("SAVEPOINT counted");
    await tx.query("UPDATE blobs SET refs = refs + $2::int - 1 WHERE key = (SELECT blob_key FROM images WHERE id = $1)", [sourceId, corpus.images]).catch(async (e: unknown) => {
      if ((e as { code?: unknown }).code !== "23514") throw e;
      await tx.query("ROLLBACK TO SAVEPOINT counted");
    });
    await tx.query("DELETE FROM images WHERE id = $1", [sourceId]);
  });
  await sql.exec("VACUUM (ANALYZE) images");
  await sql.exec("VACUUM (ANALYZE) blobs");
  return performance.now() - t0;
};

/**
 * The adapters' own `searchColumns`, which every INSERT and UPDATE of an image writes: internal to the
 * package, so loaded from its source (the module the package's entry point loads, under the source condition).
 */
const loadSearchColumns = async (): Promise<(image: SearchableImage) => [string[], string, string]> => {
  const module = (await import(new URL("../../adapters/src/postgres/search.sql.ts", import.meta.url).href)) as { searchColumns?: unknown };
  if (typeof module.searchColumns !== "function") throw new Error("packages/adapters/src/postgres/search.sql.ts exports no searchColumns");
  return module.searchColumns as (image: SearchableImage) => [string[], string, string];
};

export interface Verification {
  readonly rows: number;
  readonly ms: number;
}

/**
 * Reads `sample` generated rows (random ones, and the substring query's filenames among them) back through
 * the repository and compares their stored search columns with `searchColumns()` of the image read:
 * throws on the first difference.
 */
export const verifySearchColumns = async (sql: SqlClient, sample: number): Promise<Verification> => {
  const t0 = performance.now();
  const repository = postgresImageRepository(sql);
  const searchColumns = await loadSearchColumns();
  const { rows } = await sql.query<{ id: string; tenant: string; search_lexemes: string[]; search_text: string; filename_folded: string }>(
    `(SELECT id, tenant, search_lexemes, search_text, filename_folded FROM images ORDER BY random() LIMIT $1)
     UNION ALL
     (SELECT id, tenant, search_lexemes, search_text, filename_folded FROM images WHERE filename_folded LIKE '%plop%' ORDER BY random() LIMIT $2)`,
    [sample, Math.max(1, Math.floor(sample / 10))],
  );
  if (rows.length === 0) throw new Error("no generated row to verify");
  for (const row of rows) {
    const found = await repository.findById(row.tenant as TenantId, row.id as ImageId)();
    if (E.isLeft(found)) throw new Error(`reading back ${row.id}: ${found.left._tag}`);
    const [lexemes, text, filename] = searchColumns(found.right);
    const stored = [row.search_lexemes, row.search_text, row.filename_folded] as const;
    if (JSON.stringify(stored) !== JSON.stringify([lexemes, text, filename]))
      throw new Error(
        `the generated search columns of ${row.id} differ from searchColumns():\n  stored   ${JSON.stringify(stored)}\n  expected ${JSON.stringify([lexemes, text, filename])}`,
      );
  }
  return { rows: rows.length, ms: performance.now() - t0 };
};

export interface SearchQuery {
  readonly name: "word" | "rare" | "substring" | "all" | "word-page-10";
  readonly label: string;
  /** The query string after `?`. */
  readonly params: string;
  readonly q: string;
  readonly version?: string;
  readonly perPage: number;
  /** Matching images, counted from the generator. */
  readonly expected: number;
}

export const searchQueries = (corpus: Corpus): SearchQuery[] => {
  const word = VOCABULARY.adjectives[49]!;
  const rare = syntheticImage(43_210 % corpus.images, corpus.albums).place;
  const needle = "plop";
  let words = 0;
  let rares = 0;
  let plops = 0;
  for (let k = 0; k < corpus.images; k++) {
    const image = syntheticImage(k, corpus.albums);
    if (image.adjective === word) words++;
    if (image.place === rare) rares++;
    if (image.filename.toLowerCase().includes(needle)) plops++;
  }
  return [
    { name: "word", label: `q=${word} (a title word, ~1 %)`, params: `q=${word}`, q: word, perPage: 100, expected: words },
    { name: "rare", label: `q=${rare} (a description word of ${rares} images)`, params: `q=${rare}`, q: rare, perPage: 100, expected: rares },
    { name: "substring", label: `q=${needle}&version=2 (inside ~1 % of filenames)`, params: `q=${needle}&version=2`, q: needle, version: "2", perPage: 100, expected: plops },
    { name: "all", label: "q=* (the whole tenant)", params: "q=*", q: "*", perPage: 100, expected: corpus.images },
    { name: "word-page-10", label: `q=${word}&per_page=10 (the word, a page of 10)`, params: `q=${word}&per_page=10`, q: word, perPage: 10, expected: words },
  ];
};

/** A search token for the whole default tenant, signed by the issuer the composition builds from the shared secrets. */
export const searchAuthorization = async (databaseUrl: string, dataDir: string): Promise<string> => {
  const config = loadConfig({ ...SECRETS_ENV, IMAGE_API_DATABASE_URL: databaseUrl, IMAGE_API_DATA_DIR: dataDir, LOG_LEVEL: "silent" });
  if (E.isLeft(config)) throw new Error(config.left.join("; "));
  const composition = await compose(config.right);
  try {
    const iat = Math.floor(Date.now() / 1000);
    const token = await composition.deps.tokens.issue({ q: "*", iat, exp: iat + 4 * 3600 })();
    if (E.isLeft(token)) throw new Error(token.left.message);
    return `Token token="${token.right}"`;
  } finally {
    await composition.close();
  }
};

interface PlanNode {
  readonly "Node Type": string;
  readonly "Index Name"?: string;
  readonly "Relation Name"?: string;
  readonly "Sort Method"?: string;
  readonly "Actual Rows"?: number;
  readonly "Shared Hit Blocks"?: number;
  readonly "Shared Read Blocks"?: number;
  readonly Plans?: readonly PlanNode[];
}

export interface ExplainedStatement {
  readonly query: SearchQuery["name"];
  /** `count` (the total) or `page` (the rows). */
  /** The statement's place in what the repository sent (it sends one: the total with the page joined). */
  readonly statement: string;
  readonly executionMs: number;
  readonly planningMs: number;
  readonly indexes: readonly string[];
  /** The plan's nodes, outermost first, with the rows each returned. */
  readonly shape: string;
  readonly sharedHit: number;
  readonly sharedRead: number;
  readonly sql: string;
  readonly plan: string;
}

const shapeOf = (node: PlanNode): string => {
  const name = `${node["Node Type"]}${node["Index Name"] ? ` on ${node["Index Name"]}` : node["Relation Name"] ? ` on ${node["Relation Name"]}` : ""}${node["Sort Method"] ? ` (${node["Sort Method"]})` : ""} ×${node["Actual Rows"] ?? "?"}`;
  const children = (node.Plans ?? []).map(shapeOf);
  return children.length === 0 ? name : `${name} ← ${children.length === 1 ? children[0] : `[${children.join(" | ")}]`}`;
};
const indexesOf = (node: PlanNode): string[] => [...(node["Index Name"] ? [node["Index Name"]] : []), ...(node.Plans ?? []).flatMap(indexesOf)];

/** `client`, with every statement sent through it (and its transactions) appended to `sink`. */
const recording = (client: SqlClient, sink: Statement[]): SqlClient => {
  const wrap = (target: SqlExecutor): SqlExecutor => ({
    query: (text, params = []) => {
      sink.push({ text, values: [...params] });
      return target.query(text, params);
    },
    exec: (script) => target.exec(script),
  });
  return { ...client, ...wrap(client), transaction: (fn) => client.transaction((tx) => fn(wrap(tx))) };
};

/**
 * Runs the search command in this process on the repository, recording the statements it sends, then
 * EXPLAINs (ANALYZE, BUFFERS) each with the values it sent.
 */
export const explainSearch = async (sql: SqlClient, query: SearchQuery): Promise<ExplainedStatement[]> => {
  const sent: Statement[] = [];
  const iat = Math.floor(Date.now() / 1000);
  const claims = { q: "*", iat, exp: iat + 3600 } as Claims;
  const found = await searchImages({ images: postgresImageRepository(recording(sql, sent)) })(claims, { q: query.q, version: query.version, page: 1, perPage: query.perPage })();
  if (E.isLeft(found)) throw new Error(`searching ${query.params} in process: ${found.left._tag}`);
  const statements = sent.filter((s) => /^\s*SELECT\b/i.test(s.text));
  if (statements.length === 0) throw new Error("the search sent no SELECT");
  const explained: ExplainedStatement[] = [];
  for (const [i, s] of statements.entries()) {
    const json = await sql.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${s.text}`, [...s.values]);
    const text = await sql.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS) ${s.text}`, [...s.values]);
    const raw = json.rows[0]!["QUERY PLAN"];
    const plan = ((typeof raw === "string" ? JSON.parse(raw) : raw) as { Plan: PlanNode; "Execution Time": number; "Planning Time": number }[])[0]!;
    explained.push({
      query: query.name,
      statement: statements.length === 1 ? "total + page" : `${i + 1} of ${statements.length}`,
      executionMs: plan["Execution Time"],
      planningMs: plan["Planning Time"],
      indexes: [...new Set(indexesOf(plan.Plan))],
      shape: shapeOf(plan.Plan),
      sharedHit: plan.Plan["Shared Hit Blocks"] ?? 0,
      sharedRead: plan.Plan["Shared Read Blocks"] ?? 0,
      sql: `${s.text}  -- ${JSON.stringify(s.values)}`,
      plan: text.rows.map((r) => r["QUERY PLAN"]).join("\n"),
    });
  }
  return explained;
};

export interface Breakdown {
  readonly query: SearchQuery["name"];
  readonly runs: number;
  /** The search command on the service's repository: the count and the page through the driver, rows mapped to images. */
  readonly searchP50Ms: number;
  /** presentImage of the page's images, eight signed URLs each. */
  readonly presentP50Ms: number;
  readonly jsonP50Ms: number;
  readonly items: number;
  readonly bodyBytes: number;
}

/**
 * The service's composition, in this process, on the case's database: each query's search command, its
 * presentation and its JSON, timed apart, `runs` times interleaved (after one round not kept).
 */
export const breakdown = async (env: Record<string, string>, queries: readonly SearchQuery[], runs: number): Promise<Breakdown[]> => {
  const config = loadConfig({ ...env, LOG_LEVEL: "silent" });
  if (E.isLeft(config)) throw new Error(config.left.join("; "));
  const composition = await compose(config.right);
  try {
    const { images, signer, clock } = composition.deps;
    const iat = Math.floor(Date.now() / 1000);
    const claims = { q: "*", iat, exp: iat + 3600 } as Claims;
    const times = queries.map(() => ({ search: [] as number[], present: [] as number[], json: [] as number[], items: 0, bytes: 0 }));
    for (let run = 0; run <= runs; run++) {
      for (const [n, q] of queries.entries()) {
        const t0 = performance.now();
        const found = await searchImages({ images })(claims, { q: q.q, version: q.version, page: 1, perPage: q.perPage })();
        const t1 = performance.now();
        if (E.isLeft(found)) throw new Error(`searching ${q.params} in process: ${found.left._tag}`);
        const now = clock.now();
        const body = await Promise.all(found.right.items.map((image) => presentImage(image, signer, now)));
        const t2 = performance.now();
        const json = JSON.stringify(body);
        const t3 = performance.now();
        if (run === 0) continue;
        const t = times[n]!;
        t.search.push(t1 - t0);
        t.present.push(t2 - t1);
        t.json.push(t3 - t2);
        t.items = body.length;
        t.bytes = Buffer.byteLength(json);
      }
    }
    return queries.map((q, n) => {
      const t = times[n]!;
      return { query: q.name, runs, searchP50Ms: percentile(t.search, 50), presentP50Ms: percentile(t.present, 50), jsonP50Ms: percentile(t.json, 50), items: t.items, bodyBytes: t.bytes };
    });
  } finally {
    await composition.close();
  }
};

export interface SearchQueryResult {
  readonly name: SearchQuery["name"];
  readonly label: string;
  readonly total: number;
  readonly summary: SequentialSummary;
}

export interface SearchResult {
  readonly backend: "pg" | "pglite";
  readonly images: number;
  readonly albums: number;
  readonly fill: string;
  readonly fillMs: number;
  readonly verified: Verification;
  readonly trigramIndex: boolean;
  readonly requestsEach: number;
  readonly queries: readonly SearchQueryResult[];
  readonly breakdown: readonly Breakdown[];
  readonly explain: readonly ExplainedStatement[];
  readonly seconds: number;
}

export interface SearchCaseOptions {
  readonly backend: "pg" | "pglite";
  readonly dbs: Databases;
  readonly tmp: string;
  readonly corpus: Corpus;
  readonly requests: number;
  /** Runs of each query in the in-process breakdown. */
  readonly breakdownRuns: number;
  readonly verifySample: number;
  /** The token the source image is uploaded with (covers ALBUM). */
  readonly uploadAuth: string;
  /** A database the search token's issuer may open. */
  readonly issuerDatabaseUrl: string;
  readonly env: (extra: Record<string, string>) => Record<string, string>;
  readonly log: (message: string) => void;
}

const FILL =
  "one INSERT … SELECT over generate_series copying an uploaded row (new id, album, title, description, filename, infos, metadatas, an older created_at), " +
  "its search columns computed in SQL from the generated ASCII text and checked against searchColumns() on a sample read back through the repository; blob refs raised to match where they count, the uploaded row removed, then VACUUM (ANALYZE)";

/** The case on one backend: a service process of its own on a database (or data directory) of its own. */
export const searchCase = async (o: SearchCaseOptions): Promise<SearchResult> => {
  const t0 = performance.now();
  const dataDir = join(o.tmp, `search-${o.backend}`);
  const databaseUrl = o.backend === "pg" ? await o.dbs.create(`image_api_bench_${process.pid}_search`) : null;
  const env = o.env({ IMAGE_API_DATA_DIR: dataDir, ...(databaseUrl ? { IMAGE_API_DATABASE_URL: databaseUrl } : {}) });
  const start = () => startProcess({ name: `search-${o.backend}`, entry: "packages/http/src/main.ts", env });
  // PGlite has one connection, the service's: the corpus is written while the service is stopped.
  const open = (): Promise<SqlClient> =>
    databaseUrl ? Promise.resolve(createPgPoolClient({ connectionString: databaseUrl, max: 2, queryTimeoutMillis: 600_000 })) : createPgliteClient({ dataDir: join(dataDir, "db") });

  let proc: ServerProcess | null = await start();
  let sql: SqlClient | null = null;
  try {
    const source = await upload(proc.url, o.uploadAuth, ALBUM, await tinyPng());
    if (!databaseUrl) {
      await proc.stop();
      proc = null;
    }
    sql = await open();
    o.log(`search (${o.backend}): generating ${o.corpus.images.toLocaleString("en")} images in ${o.corpus.albums.toLocaleString("en")} albums`);
    const fillMs = await fillSearchCorpus(sql, source.id, o.corpus);
    const verified = await verifySearchColumns(sql, o.verifySample);
    o.log(`search (${o.backend}): filled in ${(fillMs / 1000).toFixed(1)} s; ${verified.rows} rows match searchColumns()`);
    const trigramIndex = (await sql.query("SELECT 1 FROM pg_indexes WHERE tablename = 'images' AND indexname = 'images_filename_trgm_idx'")).rows.length > 0;
    if (!databaseUrl) {
      await sql.close();
      sql = null;
      proc = await start();
    }

    const auth = await searchAuthorization(o.issuerDatabaseUrl, join(o.tmp, "search-issuer"));
    const headers = { Authorization: auth };
    const queries = searchQueries(o.corpus);
    const url = (q: SearchQuery) => `${proc!.url}/api/v1/search?${q.params}`;
    const totals = new Map<string, number>();
    for (const q of queries) {
      const reply = await send(url(q), "GET", headers);
      const total = Number(reply.headers["x-total-count"]);
      const items = reply.status === 200 ? (JSON.parse(reply.body.toString()) as unknown[]).length : -1;
      if (reply.status !== 200 || total !== q.expected || items !== Math.min(q.perPage, q.expected))
        throw new Error(`search ${q.params} answered ${reply.status} with X-Total-Count ${total} and ${items} items; the corpus has ${q.expected} matches: ${reply.body.toString().slice(0, 300)}`);
      totals.set(q.name, total);
    }
    o.log(`search (${o.backend}): ${o.requests} requests of each query, interleaved`);
    let turn = 0;
    const all = await sequential(o.requests * queries.length, 10 * queries.length, () => send(url(queries[turn++ % queries.length]!), "GET", headers));
    // The warm-up is a whole number of rounds, so sample i is query i mod n.
    const results = queries.map((q, n) => ({ name: q.name, label: q.label, total: totals.get(q.name)!, summary: summarize(all.filter((_, i) => i % queries.length === n)) }));

    // With PGlite the service's own connection is the only one: the rest is measured once it has stopped.
    if (!databaseUrl) {
      await proc?.stop();
      proc = null;
    }
    o.log(`search (${o.backend}): where the time goes, in process`);
    const parts = await breakdown(env, queries, o.breakdownRuns);
    sql ??= await open();
    const explain: ExplainedStatement[] = [];
    for (const q of queries) explain.push(...(await explainSearch(sql, q)));
    return {
      backend: o.backend,
      ...o.corpus,
      fill: FILL,
      fillMs,
      verified,
      trigramIndex,
      requestsEach: o.requests,
      queries: results,
      breakdown: parts,
      explain,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await sql?.close();
    await proc?.stop();
  }
};
