/** The benchmark's figures, its targets, and the Markdown table and one-line summary made of them. */
import type { ListingResult, SizeResult, SqlCapture, UploadResult } from "./bench.js";
import type { CrashRestartResult } from "./crash-restart.bench.js";
import type { Floors } from "./floors.js";
import type { SequentialSummary } from "./load.js";
import type { SearchResult } from "./search.js";

export interface CaseResult {
  readonly kind: "http" | "pgbench";
  /** Median over the rounds: successful requests (http) or transactions (pgbench) per second. */
  readonly perSecond: number;
  readonly rounds: readonly number[];
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly latencyAverageMs?: number;
  readonly failures: number;
  readonly requests: number;
  readonly rssMaxBytes?: number;
}

export interface Target {
  readonly name: string;
  readonly measured: number | null;
  /** How `measured` is shown: a share of something, a time, a factor or a size. */
  readonly unit: "%" | "ms" | "×" | "MB";
  readonly limit: number;
  readonly atLeast: boolean;
  readonly pass: boolean | null;
  /**
   * The best any service could measure on this machine, where the run measured it (./floors.ts, or
   * the load cases): a floor under an at-most target, a ceiling over an at-least one. Past the limit,
   * the target cannot be met here.
   */
  readonly bound?: number | null;
}

export interface BenchResults {
  startedAt: string;
  seconds: number;
  machine: { node: string; cpus: number; cpuModel: string; loadAverage: number[]; loadAverageAtEnd?: number[] };
  settings: Record<string, unknown>;
  selected: string[];
  /** A subset of the cases, or a quick run. */
  partial: boolean;
  cases: Record<string, CaseResult>;
  replayed?: { from: string; bodyBytes: number; headers: string[] };
  sql?: SqlCapture;
  sequential: Record<string, SequentialSummary>;
  size: Record<string, SizeResult>;
  uploads: Record<string, UploadResult>;
  listing?: ListingResult;
  search?: Record<string, SearchResult>;
  crashRestart?: Record<string, unknown>;
  floors?: Floors;
  notes: string[];
  targets?: Target[];
  summary?: string;
}

const rate = (r: BenchResults, name: string): number | null => r.cases[name]?.perSecond ?? null;
const searchP50 = (r: BenchResults, backend: string, query: string): number | undefined => r.search?.[backend]?.queries.find((q) => q.name === query)?.summary.p50Ms;
const share = (a: number | null, b: number | null): number | null => (a === null || b === null || b === 0 ? null : (100 * a) / b);
/** The crash-restart case's figures, when it ran to the end (otherwise its record says why not). */
const crashFigures = (r: BenchResults): CrashRestartResult | undefined => {
  const c = r.crashRestart;
  return c && Array.isArray(c["crashes"]) && Array.isArray(c["cycles"]) ? (c as unknown as CrashRestartResult) : undefined;
};

const known = (n: number | null | undefined): number | null => (n === undefined || n === null || Number.isNaN(n) ? null : n);

const target = (name: string, measured: number | null | undefined, unit: Target["unit"], atLeast: boolean, limit: number, bound?: number | null): Target => {
  const m = known(measured);
  return { name, measured: m, unit, limit, atLeast, pass: m === null ? null : atLeast ? m >= limit : m <= limit, ...(bound === undefined ? {} : { bound: known(bound) }) };
};

/**
 * The most duplicates/s a server could make here while Postgres runs the same SQL, as a share of pgbench
 * alone: one that cost no more CPU per request than the Express ceiling (which does no work at all)
 * would still share the two cores with Postgres, so its rate r has 1/r ≥ 1/ceiling + 1/pgbench.
 */
const sharedCoresBound = (r: BenchResults): number | null => {
  const ceiling = rate(r, "ceiling");
  const sql = rate(r, "sql");
  return ceiling === null || sql === null ? null : share(1 / (1 / ceiling + 1 / sql), sql);
};

export const targetsOf = (r: BenchResults): Target[] => {
  const mb = (b: number | undefined) => (b === undefined ? null : b / 1e6);
  const crash = crashFigures(r);
  return [
    target("in-memory ≥ 40 % of the Express ceiling", share(rate(r, "memory"), rate(r, "ceiling")), "%", true, 40),
    target("pg ≥ 80 % of pgbench (service SQL)", share(rate(r, "pg"), rate(r, "sql")), "%", true, 80, sharedCoresBound(r)),
    target("service SQL ≥ 80 % of the bare INSERT", share(rate(r, "sql"), rate(r, "insert")), "%", true, 80),
    target("pg ≥ 15 % of the Express ceiling", share(rate(r, "pg"), rate(r, "ceiling")), "%", true, 15),
    target("pg p99 at 32 connections ≤ 30 ms", r.cases["pg"]?.p99Ms, "ms", false, 30),
    target("PGlite ≥ 8 % of the Express ceiling", share(rate(r, "pglite"), rate(r, "ceiling")), "%", true, 8),
    target("PGlite p99 at 32 connections ≤ 40 ms", r.cases["pglite"]?.p99Ms, "ms", false, 40),
    target("pg X-Runtime p50 ≤ 0.6 ms", r.sequential["pg"]?.runtimeP50Ms, "ms", false, 0.6, r.floors?.pg?.durableMs),
    target("PGlite X-Runtime p50 ≤ 0.6 ms", r.sequential["pglite"]?.runtimeP50Ms, "ms", false, 0.6, r.floors?.embedded?.p50Ms),
    target("pg: 48 MB duplicate within 1.1× of 150 B", r.size["pg"]?.ratio, "×", false, 1.1),
    target("PGlite: 48 MB duplicate within 1.1× of 150 B", r.size["pglite"]?.ratio, "×", false, 1.1),
    target("listing page 1,000 (by cursor) within 2× of page 1 (pg)", r.listing?.ratio, "×", false, 2),
    target("search p50 ≤ 20 ms for a word of ~1 % of the images (pg)", searchP50(r, "pg", "word"), "ms", false, 20),
    target("in-memory RSS under load ≤ 200 MB", mb(r.cases["memory"]?.rssMaxBytes), "MB", false, 200),
    target("PGlite RSS under load ≤ 200 MB", mb(r.cases["pglite"]?.rssMaxBytes), "MB", false, 200, r.floors?.embedded?.openedRssMb),
    target("pg RSS under load ≤ 200 MB", mb(r.cases["pg"]?.rssMaxBytes), "MB", false, 200),
    // Set at 100,000 images: a smaller (quick) run does not measure it.
    target("PGlite: /readyz 200 after a kill -9 at 100,000 images ≤ 2,000 ms (slowest restart)", crash?.atTargetSize ? crash.maxMs : null, "ms", false, 2000),
    target("PGlite: acknowledged duplicates found after the kills = 100 %", crash ? share(crash.acknowledgedChecked - crash.missing, crash.acknowledgedChecked) : null, "%", true, 100),
  ];
};

const f = (n: number | null | undefined, digits = 1): string => (n === null || n === undefined || Number.isNaN(n) ? "–" : n.toFixed(digits));
const ms = (n: number | null | undefined): string => (n === null || n === undefined || Number.isNaN(n) ? "–" : n < 10 ? n.toFixed(2) : n.toFixed(1));
const shown = (t: Target): string => (t.measured === null ? "not measured" : t.unit === "%" ? `${f(t.measured)} %` : t.unit === "ms" ? `${ms(t.measured)} ms` : t.unit === "×" ? `${f(t.measured, 2)}×` : `${f(t.measured, 1)} MB`);
const limitShown = (t: Target): string => `${t.atLeast ? "≥" : "≤"} ${t.limit}${t.unit === "%" ? " %" : t.unit === "×" ? "×" : ` ${t.unit}`}`;
const boundShown = (t: Target): string => {
  if (t.bound === undefined || t.bound === null) return "–";
  const value = shown({ ...t, measured: t.bound });
  const reachable = t.atLeast ? t.bound >= t.limit : t.bound <= t.limit;
  return `${t.atLeast ? "≤" : "≥"} ${value}${reachable ? "" : " (out of reach)"}`;
};

const LABELS: Record<string, string> = {
  ceiling: "Express ceiling (replayed response, no work)",
  memory: "service, in-memory repository + blob store",
  pglite: "service, embedded PGlite + filesystem",
  pg: "service, server PostgreSQL + filesystem",
  sql: "pgbench: the service's SQL for one duplicate",
  insert: "pgbench: bare single-row INSERT of an image row",
};

export const renderMarkdown = (r: BenchResults): string => {
  const s = r.settings as { seconds: number; rounds: number; connections: number; sequential: number; logLevel?: string };
  const out: string[] = [];
  const load = (l: readonly number[] | undefined) => (l ? l.map((x) => x.toFixed(2)).join(" ") : "–");
  out.push(`# Benchmark (${r.startedAt}, Node ${r.machine.node}, ${r.machine.cpus} cores, load average ${load(r.machine.loadAverage)} at the start, ${load(r.machine.loadAverageAtEnd)} at the end)`);
  out.push("");
  out.push(
    `Every server is a process of its own; autocannon runs in the benchmark's process. ${s.connections} connections, ${s.seconds} s per run, the cases alternated ${s.rounds}× and the medians kept; ` +
      `the duplicates copy one hot 48×48 PNG. pgbench: ${s.connections} clients, 2 threads, \`-M prepared\`, generic plans allowed (\`plan_cache_mode=auto\`, as the service's pool). Servers log at ${s.logLevel ?? "their default level (info)"}, to /dev/null. ` +
      `Absolute figures move with the machine's load: read the ratios. The whole run took ${f(r.seconds / 60, 1)} min.`,
  );
  if (r.partial) out.push("", `A partial run${r.settings["quick"] ? " (BENCH_QUICK=1)" : ""}: ${r.selected.join(", ")}.`);
  out.push("");
  const names = Object.keys(r.cases);
  if (names.length > 0) {
    const ceiling = rate(r, "ceiling");
    out.push(`## Throughput at ${s.connections} connections`);
    out.push("");
    out.push("| case | per second (median) | rounds | of ceiling | p50 ms | p99 ms | failures / requests | server RSS max MB |");
    out.push("|---|---|---|---|---|---|---|---|");
    for (const name of names) {
      const c = r.cases[name]!;
      const latency = c.kind === "http" ? [ms(c.p50Ms), ms(c.p99Ms)] : [`avg ${ms(c.latencyAverageMs)}`, "–"];
      out.push(
        `| ${LABELS[name] ?? name} | ${f(c.perSecond, 0)} ${c.kind === "http" ? "req/s" : "tps"} | ${c.rounds.map((x) => f(x, 0)).join(" / ")} | ${ceiling === null ? "–" : `${f(share(c.perSecond, ceiling))} %`} | ${latency.join(" | ")} | ${c.failures} / ${c.requests} | ${c.rssMaxBytes === undefined ? "–" : f(c.rssMaxBytes / 1e6, 0)} |`,
      );
    }
    out.push("");
  }
  const seqBackends = [...new Set([...Object.keys(r.sequential), ...Object.keys(r.size), ...Object.keys(r.uploads)])];
  if (seqBackends.length > 0) {
    out.push(`## One request at a time`);
    out.push("");
    out.push(`| measurement | ${seqBackends.join(" | ")} |`);
    out.push(`|---|${seqBackends.map(() => "---").join("|")}|`);
    const row = (label: string, value: (b: string) => string) => out.push(`| ${label} | ${seqBackends.map(value).join(" | ")} |`);
    if (Object.keys(r.sequential).length > 0) {
      row("duplicate: X-Runtime p50 ms", (b) => ms(r.sequential[b]?.runtimeP50Ms));
      row("duplicate: X-Runtime p99 ms", (b) => ms(r.sequential[b]?.runtimeP99Ms));
      row("duplicate: round trip p50 / p99 ms", (b) => `${ms(r.sequential[b]?.p50Ms)} / ${ms(r.sequential[b]?.p99Ms)}`);
    }
    if (Object.keys(r.size).length > 0) {
      const any = Object.values(r.size)[0]!;
      row(`duplicate of a ${f(any.largeBytes / 1e6, 1)} MB PNG: p50 ms (X-Runtime p50)`, (b) => `${ms(r.size[b]?.large.p50Ms)} (${ms(r.size[b]?.large.runtimeP50Ms)})`);
      row(`duplicate of a ${any.smallBytes} B PNG, interleaved: p50 ms (X-Runtime p50)`, (b) => `${ms(r.size[b]?.small.p50Ms)} (${ms(r.size[b]?.small.runtimeP50Ms)})`);
      row("large / small p50 (X-Runtime)", (b) => `${f(r.size[b]?.ratio, 2)}× (${f(r.size[b]?.runtimeRatio, 2)}×)`);
    }
    if (Object.keys(r.uploads).length > 0) {
      const any = Object.values(r.uploads)[0]!;
      row(`upload of a 4000×3000 JPEG (${f(any.bytesEach / 1e6, 1)} MB), p50 ms of ${any.count}`, (b) => ms(r.uploads[b]?.uploadP50Ms));
      row("`mini` thumbnail, first request (render) p50 ms", (b) => ms(r.uploads[b]?.firstRenderP50Ms));
      row("`mini` thumbnail, cached p50 ms", (b) => ms(r.uploads[b]?.cachedP50Ms));
    }
    out.push("");
  }
  if (r.listing) {
    const l = r.listing;
    out.push(`## Album listing (pg, ${l.images.toLocaleString("en")} images, per_page=${l.perPage}, one request at a time, interleaved)`);
    out.push("");
    out.push("| page | p50 ms | p99 ms | X-Runtime p50 ms |");
    out.push("|---|---|---|---|");
    out.push(`| 1 | ${ms(l.first.p50Ms)} | ${ms(l.first.p99Ms)} | ${ms(l.first.runtimeP50Ms)} |`);
    out.push(`| ${l.deepPage.toLocaleString("en")}, by the cursor in page ${(l.deepPage - 1).toLocaleString("en")}'s \`next\` link | ${ms(l.deep.p50Ms)} | ${ms(l.deep.p99Ms)} | ${ms(l.deep.runtimeP50Ms)} |`);
    out.push(`| ${l.deepPage.toLocaleString("en")}, by number (\`?page=\`, OFFSET) | ${ms(l.deepByNumber.p50Ms)} | ${ms(l.deepByNumber.p99Ms)} | ${ms(l.deepByNumber.runtimeP50Ms)} |`);
    out.push("");
    out.push(
      `Page ${l.deepPage.toLocaleString("en")} / page 1: ${f(l.ratio, 2)}× by cursor, ${f(l.byNumberRatio, 2)}× by number. Filled in ${f(l.fillMs / 1000, 1)} s by ${l.fill}.`,
    );
    out.push("");
  }
  for (const x of Object.values(r.search ?? {})) {
    out.push(
      `## Search (${x.backend}, ${x.images.toLocaleString("en")} images in ${x.albums.toLocaleString("en")} albums, a search token for the whole tenant, one request at a time, ${x.requestsEach} of each query, interleaved)`,
    );
    out.push("");
    out.push("| query | X-Total-Count | p50 ms | p99 ms | X-Runtime p50 ms | X-Runtime p99 ms |");
    out.push("|---|---|---|---|---|---|");
    for (const q of x.queries) out.push(`| \`${q.label}\` | ${q.total.toLocaleString("en")} | ${ms(q.summary.p50Ms)} | ${ms(q.summary.p99Ms)} | ${ms(q.summary.runtimeP50Ms)} | ${ms(q.summary.runtimeP99Ms)} |`);
    out.push("");
    const runs = x.breakdown[0]?.runs ?? 0;
    out.push(`Where the time goes: the service's composition in the benchmark's process, p50 of ${runs} runs of each query.`);
    out.push("");
    out.push("| query | search command (total and page in one statement, rows mapped) ms | presenting the page (8 signed URLs an image) ms | JSON ms | items | body KB |");
    out.push("|---|---|---|---|---|---|");
    for (const b of x.breakdown) out.push(`| ${b.query} | ${ms(b.searchP50Ms)} | ${ms(b.presentP50Ms)} | ${ms(b.jsonP50Ms)} | ${b.items} | ${f(b.bodyBytes / 1024, 0)} |`);
    out.push("");
    out.push("EXPLAIN (ANALYZE, BUFFERS) of what the repository sends (one statement: the total with the page joined to it), with the values it sends, warm:");
    out.push("");
    out.push("| query | statement | execution ms | planning ms | indexes | shared hit / read | plan (rows out) |");
    out.push("|---|---|---|---|---|---|---|");
    for (const e of x.explain)
      out.push(`| ${e.query} | ${e.statement} | ${ms(e.executionMs)} | ${ms(e.planningMs)} | ${e.indexes.join(", ") || "none"} | ${e.sharedHit} / ${e.sharedRead} | ${e.shape.replace(/\|/g, "\\|")} |`);
    out.push("");
    for (const e of x.explain.filter((p) => p.query === "word" || p.query === "substring")) {
      out.push(`${e.query}, ${e.statement}:`, "", "```", e.plan, "```", "");
    }
    out.push(
      `Filled in ${f(x.fillMs / 1000, 1)} s by ${x.fill}; ${x.verified.rows} rows read back matched. ` +
        `Filename trigram index: ${x.trigramIndex ? "present" : "absent (pg_trgm unavailable)"}. The case took ${f(x.seconds, 0)} s.`,
    );
    out.push("");
  }
  const crash = crashFigures(r);
  if (crash) {
    const mbOf = (b: number) => f(b / 1e6, 1);
    const p = crash.breakdown;
    out.push(
      `## Restart after a crash (embedded defaults: PGlite + filesystem, ${crash.images.toLocaleString("en")} images, killed with SIGKILL after ${crash.loadSeconds} s of duplicates at ${crash.connections} connections)`,
    );
    out.push("");
    out.push("Wall time from the spawn to the first HTTP answer (the server listens before it opens the database) and to `/readyz` 200, polled every 10 ms.");
    out.push("");
    out.push("| restart | listening ms | /readyz 200 ms | CPU ms to ready | WAL since the checkpoint MB | duplicates acknowledged (per second) | images after | acknowledged missing |");
    out.push("|---|---|---|---|---|---|---|---|");
    crash.cycles.forEach((c, i) =>
      out.push(
        `| after kill ${i + 1} | ${f(c.listeningMs, 0)} | ${f(c.readyMs, 0)} | ${f(c.readyCpuMs, 0)} | ${mbOf(c.wal.bytes)} (${c.wal.state}) | ${c.acknowledged} (${f(c.duplicatesPerSecond, 0)}) | ${c.images.toLocaleString("en")} | ${c.missing} |`,
      ),
    );
    crash.cleans.forEach((ms, i) =>
      out.push(`| clean${i === 0 ? ", after the fill" : `, after kill ${i}`} | ${f(crash.cleanListeningMs[i], 0)} | ${f(ms, 0)} | ${f(crash.cleanCpuMs[i], 0)} | – | – | – | – |`),
    );
    out.push("");
    out.push(
      `Slowest restart after a crash ${f(crash.maxMs, 0)} ms, clean restart (median) ${f(crash.cleanMs, 0)} ms; target ≤ ${crash.targetMs} ms at 100,000 images: ` +
        `${crash.atTargetSize ? (crash.met ? "met" : "not met") : "not measured at this size"}. ${crash.acknowledgedChecked} acknowledged duplicates looked up by id, ${crash.missing} missing; ` +
        `${crash.committedUnacknowledged} more rows were committed by duplicates in flight at a kill. Filled in ${f(crash.fillMs / 1000, 1)} s.`,
    );
    out.push("");
    out.push(
      `The database's part of a start, in the benchmark's process: copies of the data dir taken right after the first kill, and the cleanly stopped one, each opened as the service opens it (durable) and with fsync off: ${p.opens === 1 ? "one open of each" : `medians of ${p.opens} opens of each`}. This process runs the sources through tsx, so its PGlite worker thread starts slower than the compiled service's.`,
    );
    out.push("");
    out.push("| data dir | open ms (PGlite start + recovery) | migrations ms | search backfill probe ms | close ms |");
    out.push("|---|---|---|---|---|");
    const opens = [
      ["after a kill", p.crashed],
      ["after a kill, fsync off", p.crashedNoFsync],
      ["after a clean stop", p.clean],
      ["after a clean stop, fsync off", p.cleanNoFsync],
    ] as const;
    for (const [label, t] of opens) out.push(`| ${label} | ${f(t.openMs, 0)} | ${f(t.migrateMs, 0)} | ${f(t.backfillMs, 0)} | ${f(t.closeMs, 0)} |`);
    out.push("");
    out.push(
      `After a kill, the syncs cost ${f(p.crashed.openMs - p.crashedNoFsync.openMs, 0)} ms of the open (after a clean stop ${f(p.clean.openMs - p.cleanNoFsync.openMs, 0)} ms): ` +
        `before it replays anything, Postgres fsyncs every file and directory of the data dir; the embedded database first syncs their file system once (syncfs) and lets through only the syncs of what changed since. ` +
        `For scale, a walk that fsyncs each of the same ${p.fsyncWalk.entries} entries, already on disk, takes ${f(p.fsyncWalk.ms, 0)} ms. ` +
        `Replaying the WAL and the end-of-recovery checkpoint, fsync off: ${f(p.crashedNoFsync.openMs - p.cleanNoFsync.openMs, 0)} ms.`,
    );
    out.push("");
  } else if (r.crashRestart) {
    out.push("## Crash and restart");
    out.push("");
    out.push("| figure | value |");
    out.push("|---|---|");
    for (const [k, v] of Object.entries(r.crashRestart)) out.push(`| ${k} | ${typeof v === "object" ? JSON.stringify(v) : String(v)} |`);
    out.push("");
  }
  // A partial run leaves out the targets it could not measure.
  const targets = (r.targets ?? []).filter((t) => !r.partial || t.measured !== null);
  if (targets.length > 0) {
    out.push("## Targets");
    out.push("");
    out.push("| target | measured | limit | result | best possible on this machine |");
    out.push("|---|---|---|---|---|");
    for (const t of targets) out.push(`| ${t.name} | ${shown(t)} | ${limitShown(t)} | ${t.pass === null ? "–" : t.pass ? "PASS" : "FAIL"} | ${boundShown(t)} |`);
    out.push("");
    if (targets.some((t) => t.bound !== undefined && t.bound !== null)) {
      out.push(
        "The last column is measured in the same run (see below): what any service would measure at best here, whatever its code. " +
          "For pg against pgbench, the rate of a server that cost no more CPU per request than the Express ceiling while Postgres ran the same SQL on the same two cores (1/r = 1/ceiling + 1/pgbench).",
      );
      out.push("");
    }
  }
  if (r.floors) out.push(...renderFloors(r.floors));
  if (r.replayed) {
    out.push(`The ceiling replays a duplicate response recorded from the ${r.replayed.from} service: ${r.replayed.bodyBytes} B of JSON and the headers ${r.replayed.headers.join(", ")}.`);
    out.push("");
  }
  if (r.sql) {
    out.push("## SQL replayed by pgbench");
    out.push("");
    out.push("Recorded from the pg driver while the service, in the benchmark's process, handled one upload and one duplicate; parameters written in as sent, new ids as `gen_random_uuid()`, the request's timestamps as `now()` (colons as `\\x3a`, which pgbench would read as variables).");
    out.push("");
    out.push("Duplicate (`sql`):");
    out.push("");
    out.push("```sql", r.sql.duplicateScript.trimEnd(), "```");
    out.push("");
    out.push("Bare insert (`insert`, the upload's INSERT of the image row):");
    out.push("");
    out.push("```sql", r.sql.insertScript.trimEnd(), "```");
    out.push("");
  }
  for (const note of r.notes) out.push(`- ${note}`);
  if (r.summary) out.push("", "```", r.summary, "```", "");
  return `${out.join("\n")}\n`;
};

const renderFloors = (x: Floors): string[] => {
  const out = ["## What this machine allows", ""];
  if (x.pg)
    out.push(
      `- Server PostgreSQL, the duplicate's recorded SQL by pgbench with one client: ${ms(x.pg.durableMs)} ms a duplicate (${f(x.pg.durableTps, 0)}/s) as the service commits, ` +
        `${ms(x.pg.noFlushMs)} ms with \`synchronous_commit=off\`: the commit's wait for its WAL flush is ${ms(x.pg.durableMs - x.pg.noFlushMs)} ms of it. ` +
        `The bare single-row INSERT takes ${ms(x.pg.insertMs)} ms the same way. The service's X-Runtime on pg holds the duplicate's time and the driver's and Node's share.`,
    );
  if (x.embedded) {
    const e = x.embedded;
    out.push(
      `- The embedded database alone, in a process of its own that opened it as the service does (durable, migrated; ${f(e.openMs, 0)} ms) with nothing of the HTTP host loaded: ` +
        `${ms(e.p50Ms)} ms p50, ${ms(e.p99Ms)} ms p99 a duplicate through the repository, one at a time (${e.count}); ` +
        `resident memory ${f(e.baselineRssMb, 0)} MB before it opened, ${f(e.openedRssMb, 0)} MB open, ${f(e.loadedRssMb, 0)} MB after the duplicates. ` +
        "The embedded service holds all of this before HTTP or JSON add anything.",
    );
  }
  out.push("");
  return out;
};

/** One line: the ratios and the count of targets met. */
export const summaryLine = (r: BenchResults): string => {
  const ratio = (a: string, b: string) => {
    const x = rate(r, a);
    const y = rate(r, b);
    return x === null || y === null ? null : `${a}/${b} ${f(x / y, 2)}`;
  };
  const parts = [ratio("memory", "ceiling"), ratio("pglite", "ceiling"), ratio("pg", "ceiling"), ratio("pg", "sql"), ratio("sql", "insert")];
  for (const b of ["pglite", "pg"]) {
    const c = r.cases[b];
    if (c?.p99Ms !== undefined) parts.push(`${b} p99@${String(r.settings["connections"])} ${ms(c.p99Ms)} ms`);
    const q = r.sequential[b];
    if (q) parts.push(`${b} X-Runtime p50 ${ms(q.runtimeP50Ms)} ms`);
    const z = r.size[b];
    if (z) parts.push(`${b} 48MB/150B ${f(z.ratio, 2)}`);
  }
  if (r.listing) parts.push(`page${r.listing.deepPage}/page1 ${f(r.listing.ratio, 2)} by cursor (${f(r.listing.byNumberRatio, 2)} by number)`);
  for (const b of Object.keys(r.search ?? {})) parts.push(`${b} search word p50 ${ms(searchP50(r, b, "word"))} ms`);
  const rss = Object.entries(r.cases)
    .filter(([name, c]) => name !== "ceiling" && c.rssMaxBytes !== undefined)
    .map(([name, c]) => `${name} ${f(c.rssMaxBytes! / 1e6, 0)}`);
  if (rss.length > 0) parts.push(`RSS MB ${rss.join(" ")}`);
  if (r.floors?.pg) parts.push(`floor pg one client: duplicate ${ms(r.floors.pg.durableMs)} ms, insert ${ms(r.floors.pg.insertMs)} ms`);
  if (r.floors?.embedded) parts.push(`floor PGlite alone: duplicate p50 ${ms(r.floors.embedded.p50Ms)} ms, RSS open ${f(r.floors.embedded.openedRssMb, 0)} MB`);
  const targets = (r.targets ?? []).filter((t) => t.pass !== null);
  const crash = crashFigures(r);
  if (crash) parts.push(`crash restart max ${f(crash.maxMs, 0)} ms (clean ${f(crash.cleanMs, 0)} ms) at ${crash.images} images, ${crash.missing}/${crash.acknowledgedChecked} acknowledged missing`);
  else if (r.crashRestart) parts.push(`crash-restart ${Object.entries(r.crashRestart).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join(" ")}`);
  const measured = parts.filter(Boolean);
  return `bench: ${measured.length > 0 ? measured.join(", ") : "nothing measured"}; targets met ${targets.filter((t) => t.pass).length}/${targets.length} (${f(r.seconds / 60, 1)} min)`;
};
