/**
 * Server PostgreSQL for the benchmark: fresh databases, the SQL the service sends, recorded from the
 * driver while the service runs, replayed by pgbench, and a large album written in one statement.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createPgPoolClient, type SqlClient } from "@image-api/adapters";
import type pgTypes from "pg";

// The driver instance the adapters load, so patching its client sees every statement they send.
const requireFromAdapters = createRequire(import.meta.resolve("@image-api/adapters"));
const pg = requireFromAdapters("pg") as typeof pgTypes;
const { prepareValue } = requireFromAdapters("pg/lib/utils") as { prepareValue: (v: unknown) => unknown };

export const databaseUrl = (server: string, name: string): string => Object.assign(new URL(server), { pathname: `/${name}` }).toString();

export interface Databases {
  readonly url: (name: string) => string;
  /** Creates a database of that name (dropped first if a crashed run left it). */
  readonly create: (name: string) => Promise<string>;
  /** Drops every database this created. */
  readonly dropAll: () => Promise<void>;
}

export const databases = (server: string): Databases => {
  const admin: SqlClient = createPgPoolClient({ connectionString: server, max: 1 });
  const created: string[] = [];
  return {
    url: (name) => databaseUrl(server, name),
    create: async (name) => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name}`);
      created.push(name);
      return databaseUrl(server, name);
    },
    dropAll: async () => {
      for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await admin.close();
    },
  };
};

export interface Statement {
  readonly text: string;
  readonly values: readonly unknown[];
}

export interface Recorder {
  /** Runs `work` and returns it with every statement the driver was given meanwhile, in order. */
  readonly record: <A>(work: () => Promise<A>) => Promise<{ result: A; statements: Statement[] }>;
  readonly restore: () => void;
}

/** Wraps `pg.Client.prototype.query`: what the pool and its transactions send, as sent. */
export const recordStatements = (): Recorder => {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  let sink: Statement[] | null = null;
  proto.query = function (this: unknown, ...args: unknown[]) {
    if (sink) {
      const [first, second] = args;
      if (typeof first === "string") sink.push({ text: first, values: Array.isArray(second) ? [...second] : [] });
      else if (first && typeof first === "object" && "text" in first) {
        const config = first as { text: string; values?: unknown[] };
        sink.push({ text: config.text, values: [...(Array.isArray(second) ? second : (config.values ?? []))] });
      }
    }
    return original.apply(this, args);
  };
  return {
    record: async (work) => {
      const statements: Statement[] = [];
      sink = statements;
      try {
        return { result: await work(), statements };
      } finally {
        sink = null;
      }
    },
    restore: () => {
      proto.query = original;
    },
  };
};

export interface Inlining {
  /** Ids the recorded request created: each run of the script makes new ones. */
  readonly newIds: ReadonlySet<string>;
  /** Timestamps within a minute of this become `now()`. */
  readonly at: Date;
}

/**
 * A string constant as pgbench must see it: pgbench reads `:name` anywhere in a statement as a
 * variable, quotes or not, so colons are written as an escape, which yields the same text.
 */
const quote = (s: string): string => `E'${s.replace(/\\/g, "\\\\").replace(/'/g, "''").replace(/:/g, "\\x3a")}'`;

/**
 * The value as pg would send it, written as an untyped constant (pg sends text parameters of
 * unknown type, which the server types the same way).
 */
const literal = (value: unknown, inlining: Inlining): string => {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string" && inlining.newIds.has(value)) return "gen_random_uuid()";
  if (value instanceof Date && Math.abs(value.getTime() - inlining.at.getTime()) < 60_000) return "now()";
  const prepared = prepareValue(value);
  if (prepared === null || prepared === undefined) return "NULL";
  if (Buffer.isBuffer(prepared)) return quote(`\\x${prepared.toString("hex")}`);
  return quote(String(prepared));
};

/** One statement with its parameters written in, ending in `;`. */
export const inline = (statement: Statement, inlining: Inlining): string => {
  const text = statement.text.trim().replace(/;$/, "");
  if (/(^|[^:]):[A-Za-z0-9_]/.test(text)) throw new Error(`statement has a colon pgbench would read as a variable: ${text.slice(0, 200)}`);
  return `${text.replace(/\$(\d+)/g, (_, n: string) => literal(statement.values[Number(n) - 1], inlining))};`;
};

export const pgbenchScript = (statements: readonly Statement[], inlining: Inlining): string => `${statements.map((s) => inline(s, inlining)).join("\n")}\n`;

export interface PgbenchResult {
  readonly tps: number;
  readonly transactions: number;
  readonly failed: number;
  readonly latencyAverageMs: number;
  readonly output: string;
}

/** pgbench on `url` with one script; no vacuum, since the tables are the service's. `settings` are more `-c name=value` for its sessions. */
export const runPgbench = (url: string, scriptFile: string, clients: number, seconds: number, threads = 2, settings: readonly string[] = []): Promise<PgbenchResult> => {
  const u = new URL(url);
  const args = ["-n", "-M", "prepared", "-c", String(clients), "-j", String(threads), "-T", String(seconds), "-f", scriptFile];
  args.push("-h", u.hostname, "-p", u.port || "5432", "-U", decodeURIComponent(u.username || "postgres"), u.pathname.slice(1));
  return new Promise((resolve, reject) => {
    // Planned as the service's pool plans them (see createPgPoolClient), so both run the same plans.
    const env = { ...process.env, PGOPTIONS: ["plan_cache_mode=auto", ...settings].map((setting) => `-c ${setting}`).join(" "), ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}) };
    const child = spawn("pgbench", args, { env });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (output += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (output += c));
    child.once("error", reject);
    child.once("exit", (code) => {
      const number = (re: RegExp) => Number(re.exec(output)?.[1] ?? Number.NaN);
      const tps = number(/^tps = ([\d.]+)/m);
      if (!Number.isFinite(tps)) {
        reject(new Error(`pgbench exited with ${code}:\n${output.slice(-2000)}`));
        return;
      }
      resolve({
        tps,
        transactions: number(/number of transactions actually processed: (\d+)/),
        failed: number(/number of failed transactions: (\d+)/) || 0,
        latencyAverageMs: number(/latency average = ([\d.]+) ms/),
        output,
      });
    });
  });
};

/**
 * Grows the source image's album to `total` images in one statement: copies of the source row (so the
 * copies have whatever columns the schema has), each with a new id and an older creation time, and the
 * blob's reference count raised to match where it counts, as that many duplicates would leave it; then
 * vacuumed. `database` is a server database's URL (opened and closed here) or an open client, such as
 * an embedded database's while its service is stopped (left open).
 */
export const fillAlbum = async (database: string | SqlClient, sourceId: string, total: number): Promise<number> => {
  const sql = typeof database === "string" ? createPgPoolClient({ connectionString: database, max: 1, queryTimeoutMillis: 600_000 }) : database;
  const t0 = performance.now();
  try {
    await sql.transaction(async (tx) => {
      // In FROM, the function runs once per row; `(f(…)).*` in the select list would run it once per column.
      await tx.query(
        `INSERT INTO images
         SELECT copy.*
           FROM images i
          CROSS JOIN generate_series(1, $2::int) g
          CROSS JOIN LATERAL jsonb_populate_record(i, jsonb_build_object(
                       'id', gen_random_uuid(),
                       'created_at', i.created_at - g * interval '1 second',
                       'updated_at', i.created_at - g * interval '1 second')) copy
          WHERE i.id = $1`,
        [sourceId, total - 1],
      );
      // Where refs only says whether any image holds the blob (a CHECK keeps it at 0 or 1), it already does.
      await tx.query("SAVEPOINT counted");
      await tx.query("UPDATE blobs SET refs = refs + $2::int WHERE key = (SELECT blob_key FROM images WHERE id = $1)", [sourceId, total - 1]).catch(async (e: unknown) => {
        if ((e as { code?: unknown }).code !== "23514") throw e;
        await tx.query("ROLLBACK TO SAVEPOINT counted");
      });
    });
    // As autovacuum would leave an album that has been there a while: statistics and visibility map current.
    await sql.exec("VACUUM (ANALYZE) images");
    await sql.exec("VACUUM (ANALYZE) blobs");
  } finally {
    if (typeof database === "string") await sql.close();
  }
  return performance.now() - t0;
};
