import type { Migration } from "./migration.js";

/**
 * Idempotency keys: claimed before a request's effect (status NULL while it runs), completed with its
 * answer in the effect's own transaction. `created_at` drives both the 24 h replay window and the
 * lease after which a request that died is taken over.
 */
export const idempotencyKeys: Migration = {
  version: 4,
  name: "idempotency_keys",
  sql: `
CREATE TABLE idempotency_keys (
  tenant      text NOT NULL,
  user_id     text NOT NULL,
  key         text NOT NULL,
  fingerprint text NOT NULL,
  status      integer,
  body        text,
  created_at  timestamptz(3) NOT NULL,
  PRIMARY KEY (tenant, user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
`,
};
