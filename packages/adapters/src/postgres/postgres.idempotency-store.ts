import type { Claim, Completion, IdempotencyStore } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import type { SqlClient, SqlExecutor } from "./sql-client.js";
import { toUnavailable } from "./sql-errors.js";

/**
 * One statement on the common path: the key is new (or expired, or left running by a request that
 * died) and this request takes it. Only a retry reads the record.
 */
const CLAIM = `INSERT INTO idempotency_keys AS k (tenant, user_id, key, fingerprint, created_at) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (tenant, user_id, key) DO UPDATE
    SET fingerprint = EXCLUDED.fingerprint, created_at = EXCLUDED.created_at, status = NULL, body = NULL
    WHERE k.created_at < $6 OR (k.status IS NULL AND k.created_at < $7)
  RETURNING 1 AS claimed`;

/** Parameters: `completionParams(c)`; run inside the effect's transaction. */
export const COMPLETE = "UPDATE idempotency_keys SET status = $1, body = $2 WHERE tenant = $3 AND user_id = $4 AND key = $5";
export const completionParams = (c: Completion): unknown[] => [c.status, c.body, c.key.tenant, c.key.userId, c.key.key];

export const complete = async (tx: SqlExecutor, c: Completion | undefined): Promise<void> => {
  if (c) await tx.query(COMPLETE, completionParams(c));
};

const run =
  <A>(work: () => Promise<A>) =>
  () =>
    work().then(
      (a) => E.right(a),
      (e: unknown) => E.left(toUnavailable(e)),
    );

export const postgresIdempotencyStore = (client: SqlClient): IdempotencyStore => ({
  claim: (key, fingerprint, at, { expiredBefore, abandonedBefore }) =>
    run(async (): Promise<Claim> => {
      const ids = [key.tenant, key.userId, key.key];
      const claimed = await client.query(CLAIM, [...ids, fingerprint, at, expiredBefore, abandonedBefore]);
      if (claimed.rows.length > 0) return { _tag: "Claimed" };
      const { rows } = await client.query<{ fingerprint: string; status: number | null; body: string | null }>(
        "SELECT fingerprint, status, body FROM idempotency_keys WHERE tenant = $1 AND user_id = $2 AND key = $3",
        ids,
      );
      const record = rows[0];
      // Swept between the two statements: as good as new, but claiming again could loop; let the client retry.
      if (!record) return { _tag: "Running" };
      if (record.fingerprint !== fingerprint) return { _tag: "Mismatch" };
      return record.status === null ? { _tag: "Running" } : { _tag: "Done", response: { status: record.status, body: record.body } };
    }),

  release: (key) =>
    run(async () => {
      await client.query("DELETE FROM idempotency_keys WHERE tenant = $1 AND user_id = $2 AND key = $3 AND status IS NULL", [key.tenant, key.userId, key.key]);
    }),

  sweep: (expiredBefore) =>
    run(async () => (await client.query("DELETE FROM idempotency_keys WHERE created_at < $1", [expiredBefore])).rowCount),
});
