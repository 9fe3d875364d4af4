import type { Unavailable } from "@image-api/core";
import * as TE from "fp-ts/lib/TaskEither.js";
import { MIGRATIONS, type Migration } from "./migrations/index.js";
import type { SqlClient } from "./sql-client.js";
import { toUnavailable } from "./sql-errors.js";

/** Arbitrary but fixed: every instance of the service contends for the same lock. */
export const MIGRATION_LOCK_KEY = 4_918_372_605;

/**
 * Brings the schema up to date and returns the versions it applied (none when already current).
 * Instances starting together queue on a transaction-scoped advisory lock, so exactly one applies each
 * migration and the others then find it recorded; a failing migration rolls back entirely.
 */
export const migrate = (client: SqlClient, migrations: readonly Migration[] = MIGRATIONS): TE.TaskEither<Unavailable, readonly number[]> =>
  TE.tryCatch(
    () =>
      client.transaction(async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
        await tx.query(
          `CREATE TABLE IF NOT EXISTS schema_migrations (
             version    integer PRIMARY KEY,
             name       text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
           )`,
        );
        const done = await tx.query<{ version: number }>("SELECT version FROM schema_migrations");
        const applied = new Set(done.rows.map((r) => Number(r.version)));
        const pending = [...migrations].filter((m) => !applied.has(m.version)).sort((a, b) => a.version - b.version);
        for (const m of pending) {
          await tx.exec(m.sql);
          await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
        }
        return pending.map((m) => m.version);
      }),
    toUnavailable,
  );
