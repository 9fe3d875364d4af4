import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { joseTokenIssuer } from "@image-api/adapters";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { albumCount, DATABASE_BACKENDS, fixturePng, freshAlbum, SECRET, upload, uploaded, URL_KEY, useBackend, type TestApp } from "./harness.js";
import { ROOT } from "./run-process.js";

describe.each(DATABASE_BACKENDS)("Idempotency-Key on %s", (_name, start) => {
  let t: TestApp;
  const skipIfNone = useBackend(start, (app) => (t = app));
  const duplicate = async (id: string, album: string, key?: string, body: object = {}) => {
    const req = t
      .http()
      .post(`/api/v1/images/${id}/duplicate`)
      .set("Authorization", t.auth(await t.token(["image_duplicate", "image_upload", "image_list"], album)));
    return (key === undefined ? req : req.set("Idempotency-Key", key)).send(body);
  };

  it("a retry of a duplicate replays the identical answer and makes no second copy", async (ctx) => {
    skipIfNone(ctx);
    const album = freshAlbum("IDEM");
    const source = await uploaded(t, { album });
    const first = await duplicate(source.id, album, "retry-1");
    expect(first.status).toBe(200);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    t.clock.advance(5_000);
    const again = await duplicate(source.id, album, "retry-1");
    expect(again.status).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.text).toBe(first.text);
    expect(await albumCount(t, album)).toBe(2);
    // Without a key, or with another one, each request is its own.
    expect((await duplicate(source.id, album, "retry-2")).body.id).not.toBe(first.body.id);
    expect((await duplicate(source.id, album)).status).toBe(200);
    expect(await albumCount(t, album)).toBe(4);
  });

  it("the same key with another request is refused, and a malformed key too, changing nothing", async (ctx) => {
    skipIfNone(ctx);
    const album = freshAlbum("IDEM");
    const source = await uploaded(t, { album });
    const other = await uploaded(t, { album });
    expect((await duplicate(source.id, album, "reuse")).status).toBe(200);
    const mismatch = await duplicate(other.id, album, "reuse");
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.error.message).toContain("Idempotency-Key");
    expect((await duplicate(source.id, album, "reuse", { album_id: freshAlbum("ELSE") })).status).toBe(422);
    expect((await duplicate(source.id, album, "x".repeat(256))).status).toBe(422);
    expect((await duplicate(source.id, album, "")).status).toBe(422);
    expect(await albumCount(t, album)).toBe(3);
  });

  it("keys belong to their user: another user's request with the same key is its own", async (ctx) => {
    skipIfNone(ctx);
    const album = freshAlbum("IDEM");
    const source = await uploaded(t, { album });
    const as = async (user: string) =>
      t
        .http()
        .post(`/api/v1/images/${source.id}/duplicate`)
        .set("Authorization", t.auth(await t.token(["image_duplicate"], album, { user_id: user })))
        .set("Idempotency-Key", "shared");
    const [a, b] = [await as("user-a"), await as("user-b")];
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.id).not.toBe(b.body.id);
  });

  it("of 20 concurrent retries with one key exactly one duplicate happens; the others replay it or are told to retry", async (ctx) => {
    skipIfNone(ctx);
    const album = freshAlbum("IDEM");
    const source = await uploaded(t, { album });
    const answers = await Promise.all(Array.from({ length: 20 }, () => duplicate(source.id, album, "storm")));
    expect(answers.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const made = new Set(answers.filter((r) => r.status === 200).map((r) => r.body.id));
    expect(made.size).toBe(1);
    expect(await albumCount(t, album)).toBe(2);
    const after = await duplicate(source.id, album, "storm");
    expect(after.headers["idempotent-replayed"]).toBe("true");
    expect(after.body.id).toBe([...made][0]);
  });

  it("uploads, deletes, bulk deletes and moves replay too", async (ctx) => {
    skipIfNone(ctx);
    const album = freshAlbum("IDEM");
    const dest = freshAlbum("IDMV");
    const file = await fixturePng(40, 30);
    const up = () => upload(t, { album, bytes: file, headers: { "Idempotency-Key": "up-1" } });
    const u1 = await up();
    const u2 = await up();
    expect(u1.status).toBe(200);
    expect(u2.headers["idempotent-replayed"]).toBe("true");
    expect(u2.text).toBe(u1.text);
    expect(await albumCount(t, album)).toBe(1);
    // The same key with another file is another request.
    expect((await upload(t, { album, bytes: await fixturePng(41, 30), headers: { "Idempotency-Key": "up-1" } })).status).toBe(422);

    const token = await t.token([], "unused", {
      abilities: { [album]: { Access: { image_delete: true, image_upload: true, image_list: true } }, [dest]: { Access: { image_upload: true, image_delete: true } } },
    });
    const extra = await uploaded(t, { album });
    const move = () => t.http().post("/api/v1/images/move").set("Authorization", t.auth(token)).set("Idempotency-Key", "mv").send({ move_operations: { [extra.id]: dest } });
    const m1 = await move();
    const m2 = await move();
    expect(m1.body).toEqual([extra.id]);
    expect(m2.headers["idempotent-replayed"]).toBe("true");
    expect(m2.body).toEqual([extra.id]);

    const del = () => t.http().delete(`/api/v1/images/${u1.body.id}`).set("Authorization", t.auth(token)).set("Idempotency-Key", "del");
    expect((await del()).status).toBe(204);
    const d2 = await del();
    expect(d2.status).toBe(204);
    expect(d2.headers["idempotent-replayed"]).toBe("true");

    const bulk = () => t.http().delete("/api/v1/images").set("Authorization", t.auth(token)).set("Idempotency-Key", "bulk").send({ image_ids: [extra.id] });
    expect((await bulk()).body).toEqual([extra.id]);
    const b2 = await bulk();
    expect(b2.headers["idempotent-replayed"]).toBe("true");
    expect(b2.body).toEqual([extra.id]);
    expect(await albumCount(t, dest)).toBe(0);
  });

  it("a request that fails stores nothing: its retry runs again", async (ctx) => {
    skipIfNone(ctx);
    const album = freshAlbum("IDEM");
    const source = await uploaded(t, { album });
    const forbidden = await t
      .http()
      .post(`/api/v1/images/${source.id}/duplicate`)
      .set("Authorization", t.auth(await t.token(["image_list"], album)))
      .set("Idempotency-Key", "fails-first");
    expect(forbidden.status).toBe(403);
    const retried = await duplicate(source.id, album, "fails-first");
    expect(retried.status).toBe(200);
    expect(retried.headers["idempotent-replayed"]).toBeUndefined();
  });

  it("a key expires after 24 h", async (ctx) => {
    skipIfNone(ctx);
    const album = freshAlbum("IDEM");
    const source = await uploaded(t, { album });
    const first = await duplicate(source.id, album, "day");
    t.clock.advance(24 * 60 * 60 * 1000 + 1_000);
    const later = await duplicate(source.id, album, "day");
    expect(later.status).toBe(200);
    expect(later.headers["idempotent-replayed"]).toBeUndefined();
    expect(later.body.id).not.toBe(first.body.id);
  });
});

describe("Idempotency-Key across a crash", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "image-api-idem-crash-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const serve = (port: number) => {
    const child = spawn(process.execPath, ["--conditions=@image-api/source", "--import", "tsx", join(ROOT, "packages/http/src/main.ts")], {
      cwd: ROOT,
      env: { PATH: process.env["PATH"] ?? "", LOG_LEVEL: "warn", PORT: String(port), HOST: "127.0.0.1", IMAGE_API_DATA_DIR: dir, IMAGE_API_JWT_SECRET: SECRET, IMAGE_API_URL_SIGNING_KEYS: URL_KEY },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const ready = (async () => {
      for (let i = 0; i < 600; i++) {
        if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("server did not become ready");
    })();
    return { child, exited, ready };
  };

  it("a killed and restarted server still replays a key it acknowledged", async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const base = `http://127.0.0.1:${port}`;
    const now = Math.floor(Date.now() / 1000);
    const token = await joseTokenIssuer({ secret: SECRET }).issue({
      exp: now + 3600,
      iat: now,
      user_id: "crash-user",
      abilities: { CRASH: { Access: { image_upload: true, image_duplicate: true, image_list: true } } },
    })();
    if (E.isLeft(token)) throw new Error(token.left.message);
    const auth = { Authorization: `Token token="${token.right}"` };
    let server = serve(port);
    await server.ready;
    const form = new FormData();
    form.append("file", new Blob([await fixturePng()], { type: "image/png" }), "crash.png");
    const source = (await (await fetch(`${base}/api/v1/albums/CRASH/images`, { method: "POST", headers: auth, body: form })).json()) as { id: string };
    const first = await fetch(`${base}/api/v1/images/${source.id}/duplicate`, { method: "POST", headers: { ...auth, "Idempotency-Key": "before-crash" } });
    const firstBody = await first.text();
    expect(first.status).toBe(200);
    server.child.kill("SIGKILL");
    await server.exited;
    server = serve(port);
    try {
      await server.ready;
      const replay = await fetch(`${base}/api/v1/images/${source.id}/duplicate`, { method: "POST", headers: { ...auth, "Idempotency-Key": "before-crash" } });
      expect(replay.status).toBe(200);
      expect(replay.headers.get("idempotent-replayed")).toBe("true");
      expect(await replay.text()).toBe(firstBody);
      const list = (await (await fetch(`${base}/api/v1/albums/CRASH/images`, { headers: auth })).json()) as unknown[];
      expect(list).toHaveLength(2);
    } finally {
      server.child.kill("SIGKILL");
      await server.exited;
    }
  }, 120_000);
});
