import type { Completion, IdempotencyKey, IdempotencyStore, StoredResponse } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";

interface IdempotencyRecord {
  fingerprint: string;
  response: StoredResponse | null;
  createdAt: Date;
}

/** Idempotency records shared by a memory repository (which completes them) and its store (which claims them). */
export type MemoryIdempotencyRecords = Map<string, IdempotencyRecord>;

const id = (k: IdempotencyKey): string => JSON.stringify([k.tenant, k.userId, k.key]);

/** Completes a claimed key; called inside the repository's atomic step. */
export const completeIn = (records: MemoryIdempotencyRecords, c: Completion | undefined): void => {
  const record = c && records.get(id(c.key));
  if (c && record) record.response = { status: c.status, body: c.body };
};

export const memoryIdempotencyStore = (records: MemoryIdempotencyRecords): IdempotencyStore => ({
  claim: (key, fingerprint, at, { expiredBefore, abandonedBefore }) => async () => {
    const existing = records.get(id(key));
    if (!existing || existing.createdAt < expiredBefore || (existing.response === null && existing.createdAt < abandonedBefore)) {
      records.set(id(key), { fingerprint, response: null, createdAt: new Date(at) });
      return E.right({ _tag: "Claimed" });
    }
    if (existing.fingerprint !== fingerprint) return E.right({ _tag: "Mismatch" });
    return E.right(existing.response ? { _tag: "Done", response: existing.response } : { _tag: "Running" });
  },
  release: (key) => async () => {
    if (records.get(id(key))?.response === null) records.delete(id(key));
    return E.right(undefined);
  },
  sweep: (expiredBefore) => async () => {
    let n = 0;
    for (const [k, r] of records) if (r.createdAt < expiredBefore && records.delete(k)) n += 1;
    return E.right(n);
  },
});
