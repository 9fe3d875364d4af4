import {
  DEFAULT_TENANT,
  duplicateOf,
  type IdempotencyKey,
  type IdempotencyStore,
  type ImageId,
  type ImageRepository,
  type TenantId,
} from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import type { TaskEither } from "fp-ts/lib/TaskEither.js";
import { describe, expect, type TestAPI } from "vitest";
import { anImage, testUuid } from "../fixtures/image.fixture.js";

const right = async <A>(te: TaskEither<{ readonly message: string }, A>): Promise<A> => {
  const r = await te();
  if (E.isLeft(r)) throw new Error(`expected success, got ${r.left.message}`);
  return r.right;
};

const HOUR = 60 * 60 * 1000;
const NOW = new Date("2026-06-01T12:00:00.000Z");
const limitsAt = (at: Date) => ({ expiredBefore: new Date(at.getTime() - 24 * HOUR), abandonedBefore: new Date(at.getTime() - 0.25 * HOUR) });
const keyOf = (key: string, tenant: TenantId = DEFAULT_TENANT, userId = "user-1"): IdempotencyKey => ({ tenant, userId, key });

/**
 * What an IdempotencyStore and the ImageRepository it shares a database with must do together.
 * `test` provides a fresh, empty pair per test.
 */
export function idempotencyContract(test: TestAPI<{ repo: ImageRepository; idempotency: IdempotencyStore }>): void {
  describe("claiming a key", () => {
    test("the first request claims it; a retry while it runs is Running, one with another request a Mismatch", async ({ idempotency }) => {
      const key = keyOf("k1");
      expect(await right(idempotency.claim(key, "fp-a", NOW, limitsAt(NOW)))).toEqual({ _tag: "Claimed" });
      expect(await right(idempotency.claim(key, "fp-a", NOW, limitsAt(NOW)))).toEqual({ _tag: "Running" });
      expect(await right(idempotency.claim(key, "fp-b", NOW, limitsAt(NOW)))).toEqual({ _tag: "Mismatch" });
    });

    test("keys are scoped by tenant and user", async ({ idempotency }) => {
      for (const key of [keyOf("k"), keyOf("k", "tenant-b" as TenantId), keyOf("k", DEFAULT_TENANT, "user-2")])
        expect(await right(idempotency.claim(key, "fp", NOW, limitsAt(NOW)))).toEqual({ _tag: "Claimed" });
    });

    test("of concurrent claims with one key, exactly one wins", async ({ idempotency }) => {
      const claims = await Promise.all(Array.from({ length: 20 }, () => right(idempotency.claim(keyOf("race"), "fp", NOW, limitsAt(NOW)))));
      expect(claims.filter((c) => c._tag === "Claimed")).toHaveLength(1);
      expect(claims.filter((c) => c._tag === "Running")).toHaveLength(19);
    });

    test("a released key is claimed again; a key running past its lease is taken over; an expired one is forgotten", async ({ idempotency }) => {
      await right(idempotency.claim(keyOf("r"), "fp", NOW, limitsAt(NOW)));
      await right(idempotency.release(keyOf("r")));
      expect(await right(idempotency.claim(keyOf("r"), "fp-other", NOW, limitsAt(NOW)))).toEqual({ _tag: "Claimed" });
      const later = new Date(NOW.getTime() + 0.5 * HOUR);
      expect(await right(idempotency.claim(keyOf("r"), "fp-other", later, limitsAt(later)))).toEqual({ _tag: "Claimed" });
    });
  });

  describe("completing with the effect", () => {
    test("a copy made with a completion replays its answer; the key is done only because the copy exists", async ({ repo, idempotency }) => {
      const source = anImage();
      await right(repo.insert(source));
      const key = keyOf("dup");
      await right(idempotency.claim(key, "fp", NOW, limitsAt(NOW)));
      const copy = duplicateOf(source, testUuid() as ImageId, NOW, "user-1");
      await right(repo.insertCopy(source.id, copy, { key, status: 200, body: '{"id":"x"}' }));
      expect(await right(idempotency.claim(key, "fp", NOW, limitsAt(NOW)))).toEqual({ _tag: "Done", response: { status: 200, body: '{"id":"x"}' } });
      expect(await right(idempotency.claim(key, "fp-changed", NOW, limitsAt(NOW)))).toEqual({ _tag: "Mismatch" });

      // A copy that fails (its source is gone) leaves the key running, to be released.
      const failed = keyOf("dup-gone");
      await right(idempotency.claim(failed, "fp", NOW, limitsAt(NOW)));
      const orphan = duplicateOf(source, testUuid() as ImageId, NOW, "user-1");
      expect((await repo.insertCopy(testUuid() as ImageId, orphan, { key: failed, status: 200, body: "{}" })())._tag).toBe("Left");
      expect(await right(idempotency.claim(failed, "fp", NOW, limitsAt(NOW)))).toEqual({ _tag: "Running" });
    });

    test("inserts, removals and moves store their completion with their effect", async ({ repo, idempotency }) => {
      const claim = async (name: string) => {
        await right(idempotency.claim(keyOf(name), "fp", NOW, limitsAt(NOW)));
        return keyOf(name);
      };
      const done = async (name: string) => right(idempotency.claim(keyOf(name), "fp", NOW, limitsAt(NOW)));
      const a = anImage();
      const b = anImage();
      await right(repo.insert(a, { key: await claim("insert"), status: 200, body: "a" }));
      await right(repo.insert(b));
      expect(await done("insert")).toEqual({ _tag: "Done", response: { status: 200, body: "a" } });
      await claim("move2");
      await right(repo.move(DEFAULT_TENANT, [{ id: a.id, to: "third-album" as never }], { kind: "tenant" }, NOW, (moved) => ({ key: keyOf("move2"), status: 200, body: `${moved.length}` })));
      expect(await done("move2")).toEqual({ _tag: "Done", response: { status: 200, body: "1" } });
      await claim("all");
      await right(repo.removeAll(DEFAULT_TENANT, [a.id], { kind: "tenant" }, (removals) => ({ key: keyOf("all"), status: 200, body: `${removals.length}` })));
      expect(await done("all")).toEqual({ _tag: "Done", response: { status: 200, body: "1" } });
      await claim("one");
      await right(repo.remove(DEFAULT_TENANT, b.id, { key: keyOf("one"), status: 204, body: null }));
      expect(await done("one")).toEqual({ _tag: "Done", response: { status: 204, body: null } });
      // A bulk delete refused for its scope stores nothing.
      const c = anImage({ albumId: "locked-album" as never });
      await right(repo.insert(c));
      await claim("refused");
      expect((await repo.removeAll(DEFAULT_TENANT, [c.id], { kind: "albums", albums: [] }, () => ({ key: keyOf("refused"), status: 200, body: "[]" }))())._tag).toBe("Left");
      expect(await done("refused")).toEqual({ _tag: "Running" });
    });

    test("the sweep forgets expired records only", async ({ idempotency }) => {
      const old = new Date(NOW.getTime() - 25 * HOUR);
      await right(idempotency.claim(keyOf("old"), "fp", old, limitsAt(old)));
      await right(idempotency.claim(keyOf("new"), "fp", NOW, limitsAt(NOW)));
      expect(await right(idempotency.sweep(limitsAt(NOW).expiredBefore))).toBe(1);
      expect(await right(idempotency.claim(keyOf("new"), "fp", NOW, limitsAt(NOW)))).toEqual({ _tag: "Running" });
      expect(await right(idempotency.claim(keyOf("old"), "fp", NOW, limitsAt(NOW)))).toEqual({ _tag: "Claimed" });
    });
  });
}
