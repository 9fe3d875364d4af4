import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgPoolClient, type SqlClient } from "@image-api/adapters";
import type { BlobKey } from "@image-api/core";
import { planPostgres, startOutagePostgres, type OutagePostgres } from "@image-api/testkit";
import { startCommitReplyDropper } from "./commit-reply-dropper.js";
import { blobExists, filesUnder, fixturePng, freshAlbum, startTestApp, upload, UUID_RE, type TestApp } from "./harness.js";

/**
 * The service on server Postgres while the database goes away and comes back: every request answers
 * 200 or 503 in bounded time, the service heals by itself, and nothing half-written stays behind.
 * The database is a container of this file's own, since it is shut down and frozen.
 */

// A server someone pointed the run at cannot be shut down by a test: this needs a container.
const plan = await planPostgres({ ...process.env, IMAGE_API_TEST_DATABASE_URL: undefined });
if (plan.kind === "skip") console.warn(`\n[postgres-outage] skipped, it needs a Postgres container of its own: ${plan.reason}\n`);
const image = plan.kind === "container" ? plan.image : undefined;

const POOL_SIZE = 3;
/** The pool's waits for a connection and for an answer (createPgPoolClient's defaults). */
const CONNECT_TIMEOUT_MS = 5_000;
/** An upload makes two database round trips (reserve the blob, insert the image), each bounded by the timeouts. */
const HANG_LIMIT_MS = 2 * CONNECT_TIMEOUT_MS + 3_000;
const WORKERS = 6;
const MAX_REQUESTS = 20_000;
const MAX_LOAD_MS = 60_000;
const RECOVERY_LIMIT_MS = 15_000;


type Op = "upload" | "duplicate" | "get" | "healthz";

interface Sent {
  readonly op: Op;
  readonly started: number;
  readonly ended: number;
  /** HTTP status, or 0 when no answer came within HANG_LIMIT_MS or the connection failed. */
  readonly status: number;
  readonly body: any;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!image)("the service on server Postgres", () => {
  let db: OutagePostgres;
  let t: TestApp;
  let server: Server;
  let base: string;
  let sql: SqlClient;
  let token: string;
  let pngs: Buffer[];
  const album = freshAlbum("OUTAGE");
  /** Every image the API answered 200 for, by id. */
  const acknowledged = new Set<string>();

  const send = async (op: Op, path: string, init: RequestInit = {}): Promise<Sent> => {
    const started = Date.now();
    try {
      const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(HANG_LIMIT_MS) });
      const text = await res.text();
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: kept as text, which the assertions on error bodies then refuse.
      }
      return { op, started, ended: Date.now(), status: res.status, body };
    } catch (error) {
      return { op, started, ended: Date.now(), status: 0, body: String(error) };
    }
  };

  const auth = () => ({ Authorization: t.auth(token) });
  const uploadOne = (bytes: Buffer) => {
    const form = new FormData();
    form.append("file", new Blob([bytes], { type: "image/png" }), "Super Image.png");
    return send("upload", `/api/v1/albums/${album}/images`, { method: "POST", headers: auth(), body: form });
  };
  const duplicateOf = (id: string) => send("duplicate", `/api/v1/images/${id}/duplicate`, { method: "POST", headers: auth() });
  const getImage = (id: string) => send("get", `/api/v1/images/${id}`, { headers: auth() });
  const healthz = () => send("healthz", "/healthz");

  const remember = (r: Sent): Sent => {
    if (r.status === 200 && r.op !== "get" && r.op !== "healthz") acknowledged.add(r.body.id as string);
    return r;
  };

  const pick = <A>(xs: readonly A[], i: number): A => xs[i % xs.length] as A;

  /** Bounded traffic: WORKERS loops of uploads, duplicates and reads until `stop()`, MAX_REQUESTS or MAX_LOAD_MS. */
  const load = () => {
    const sent: Sent[] = [];
    let running = true;
    let n = 0;
    const deadline = Date.now() + MAX_LOAD_MS;
    const worker = async (w: number) => {
      while (running && n < MAX_REQUESTS && Date.now() < deadline) {
        const i = n++;
        const known = [...acknowledged];
        const target = known.length > 0 ? pick(known, i * 7919 + w) : undefined;
        const op = target ? i % 3 : 0;
        const r = op === 0 ? await uploadOne(pick(pngs, i)) : op === 1 ? await duplicateOf(target!) : await getImage(target!);
        sent.push(remember(r));
      }
    };
    const done = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    return {
      sent,
      stop: async () => {
        running = false;
        await done;
        return sent;
      },
    };
  };

  const untilHealthy = async (): Promise<number> => {
    const from = Date.now();
    for (;;) {
      const r = await healthz();
      if (r.status === 200) return Date.now();
      if (Date.now() - from > RECOVERY_LIMIT_MS) throw new Error(`not healthy ${RECOVERY_LIMIT_MS} ms after the database came back`);
      await sleep(100);
    }
  };

  const isServiceUnavailable = (r: Sent): boolean =>
    r.status === 503 && typeof r.body === "object" && r.body?.error?.code === "service_unavailable" && typeof r.body.error.message === "string";

  interface Outage {
    readonly sent: readonly Sent[];
    readonly downFrom: number;
    readonly upFrom: number;
    readonly dbBack: number;
    readonly healthy: number;
    readonly healthDuringOutage: Sent;
  }

  /** Load before, during and after an outage staged by `down`/`up`. */
  const stage = async (down: () => Promise<void>, up: () => Promise<void>, outageMs: number): Promise<Outage> => {
    const traffic = load();
    await sleep(1_000);
    await down();
    const downFrom = Date.now();
    const healthDuringOutage = await healthz();
    await sleep(Math.max(0, outageMs - (Date.now() - downFrom)));
    const upFrom = Date.now();
    await up();
    const dbBack = Date.now();
    let healthy: number;
    try {
      healthy = await untilHealthy();
      await sleep(1_000);
    } finally {
      await traffic.stop();
    }
    return { sent: traffic.sent, downFrom, upFrom, dbBack, healthy, healthDuringOutage };
  };

  const summarize = (name: string, o: Outage) => {
    const by = (p: (r: Sent) => boolean) => o.sent.filter(p).length;
    const durations = o.sent.map((r) => r.ended - r.started);
    const summary = {
      sent: o.sent.length,
      ok: by((r) => r.status === 200),
      unavailable: by((r) => r.status === 503),
      other: by((r) => r.status !== 200 && r.status !== 503),
      outageMs: o.upFrom - o.downFrom,
      restartMs: o.dbBack - o.upFrom,
      recoveryMs: o.healthy - o.dbBack,
      slowestMs: Math.max(...durations),
      failedAfterRecovery: by((r) => r.started > o.healthy && r.status !== 200),
    };
    console.info(`[postgres-outage] ${name}: ${JSON.stringify(summary)}`);
    return summary;
  };

  /** Traffic answered wholly inside the outage: it cannot have reached the database. */
  const duringOutage = (o: Outage) => o.sent.filter((r) => r.started >= o.downFrom && r.ended <= o.upFrom);

  const expectOutageHandled = (name: string, o: Outage) => {
    const s = summarize(name, o);
    const odd = o.sent.filter((r) => r.status !== 200 && !isServiceUnavailable(r));
    expect(odd.slice(0, 5), "every answer is 200 or a service_unavailable 503").toEqual([]);
    expect(s.slowestMs).toBeLessThanOrEqual(HANG_LIMIT_MS);
    const inside = duringOutage(o);
    expect(inside.length).toBeGreaterThan(0);
    expect(inside.filter((r) => r.status !== 503)).toEqual([]);
    expect(o.sent.filter((r) => r.ended < o.downFrom && r.status === 200).length, "traffic succeeded before the outage").toBeGreaterThan(0);
    expect(o.sent.filter((r) => r.started > o.healthy && r.status === 200).length, "traffic succeeded after it").toBeGreaterThan(0);
    expect(o.healthDuringOutage.status).toBe(503);
    expect(o.healthDuringOutage.body).toEqual({ status: "unavailable", database: "down" });
    expect(s.recoveryMs).toBeLessThan(RECOVERY_LIMIT_MS);
    return s;
  };

  const expectWorkingAgain = async () => {
    expect(server.listening).toBe(true);
    const up = remember(await uploadOne(pick(pngs, 0)));
    expect(up.status).toBe(200);
    const dup = remember(await duplicateOf(up.body.id));
    expect(dup.status).toBe(200);
    expect(dup.body.group_id).toBe(up.body.id);
  };

  /**
   * Everything answered 200 is readable; every row's blob exists; every blob file belongs to a blob row
   * (an image, or a zero-reference blob awaiting release); no temp file of an interrupted write remains.
   */
  const expectConsistent = async () => {
    for (const id of acknowledged) {
      const r = await getImage(id);
      expect(r.status, `image ${id} was acknowledged`).toBe(200);
    }
    const rows = await sql.query<{ id: string; blob_key: string }>("SELECT id::text, blob_key FROM images");
    const blobs = await sql.query<{ key: string; refs: number }>("SELECT key, refs FROM blobs");
    const refs = new Map<string, number>();
    for (const r of rows.rows) refs.set(r.blob_key, (refs.get(r.blob_key) ?? 0) + 1);
    // A blob is marked held exactly while rows hold it.
    expect(blobs.rows.filter((b) => b.refs !== Math.min(1, refs.get(b.key) ?? 0))).toEqual([]);
    const missing = new Set<string>();
    for (const key of refs.keys()) if (!(await blobExists(t, key as BlobKey))) missing.add(key);
    const withoutBytes = rows.rows.filter((r) => missing.has(r.blob_key)).map((r) => r.id);
    // An upload whose COMMIT went unanswered settles the outcome before touching its bytes.
    expect(withoutBytes, "images without bytes").toEqual([]);
    const rowIds = new Set(rows.rows.map((r) => r.id));
    expect([...acknowledged].filter((id) => !rowIds.has(id))).toEqual([]);

    const known = new Set(blobs.rows.map((b) => b.key));
    const files = await filesUnder(join(t.dataDir, "blobs"));
    const stray = files.filter((f) => {
      const [area] = f.split("/");
      const key = area === "renditions" ? basename(dirname(f)) : basename(f);
      return basename(f).startsWith(".tmp-") || !known.has(key);
    });
    expect(stray).toEqual([]);
    return { images: rows.rows.length, blobs: blobs.rows.length, files: files.length, imagesWithoutBytes: withoutBytes.length };
  };

  beforeAll(async () => {
    db = await startOutagePostgres(image);
    t = await startTestApp({ IMAGE_API_DATABASE_URL: db.url, IMAGE_API_DB_POOL_SIZE: String(POOL_SIZE) });
    server = await new Promise<Server>((resolve) => {
      const s = t.app.listen(0, "127.0.0.1", () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sql = createPgPoolClient({ connectionString: db.url, max: 1 });
    token = await t.token(["image_upload", "image_duplicate", "image_list"], album);
    pngs = await Promise.all(Array.from({ length: 8 }, (_, i) => fixturePng(48, 48, `#${(0x102030 + i * 0x0f0f0f).toString(16)}`)));
    for (const png of pngs.slice(0, 3)) expect(remember(await uploadOne(png)).status).toBe(200);
  });

  afterAll(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await sql?.close();
    await t?.close();
    await db?.stop();
  });

  it("duplicates as the seed does: a new id, the source's album, group_id = source id", async () => {
    const source = remember(await uploadOne(pick(pngs, 1)));
    expect(source.status).toBe(200);
    const copy = remember(await duplicateOf(source.body.id));
    expect(copy.status).toBe(200);
    expect(copy.body.id).toMatch(UUID_RE);
    expect(copy.body.id).not.toBe(source.body.id);
    expect(copy.body.public_id).toBe(copy.body.id);
    expect(copy.body.group_id).toBe(source.body.id);
    expect(copy.body.album_id).toBe(album);
    expect(copy.body.infos).toEqual(source.body.infos);
    const read = await getImage(copy.body.id);
    expect(read.status).toBe(200);
    expect(read.body.group_id).toBe(source.body.id);
    // Both rows share one stored blob, held (refs = 1) while any image uses it: a copy writes no blob row.
    const shared = await sql.query<{ refs: number; n: string }>(
      "SELECT b.refs, count(*)::text AS n FROM images i JOIN blobs b ON b.key = i.blob_key WHERE i.id IN ($1, $2) GROUP BY b.key, b.refs",
      [source.body.id, copy.body.id],
    );
    expect(shared.rows).toEqual([{ refs: 1, n: "2" }]);
  });

  it("answers 503 while the database is shut down, and heals by itself once it is back", async () => {
    const o = await stage(db.shutdown, db.restart, 3_000);
    expectOutageHandled("shutdown", o);
    await expectWorkingAgain();
    console.info(`[postgres-outage] after shutdown: ${JSON.stringify(await expectConsistent())}`);
  }, 90_000);

  it("answers 503 within the connection timeout while the database is frozen, and heals once it thaws", async () => {
    // Longer than any request may take: a query waiting on a frozen connection would show as a hang.
    const o = await stage(db.pause, db.unpause, HANG_LIMIT_MS + 4_000);
    expectOutageHandled("frozen", o);
    await expectWorkingAgain();
    console.info(`[postgres-outage] after freeze: ${JSON.stringify(await expectConsistent())}`);
  }, 90_000);

  it("keeps the bytes of an upload whose commit went through unanswered, and answers with the image", async () => {
    const proxy = await startCommitReplyDropper(db.url);
    const other = await startTestApp({ IMAGE_API_DATABASE_URL: proxy.url, IMAGE_API_DB_POOL_SIZE: "2" });
    try {
      const lost = freshAlbum("LOSTCOMMIT");
      proxy.armNextCommit();
      const started = Date.now();
      const res = await upload(other, { album: lost });
      expect(proxy.dropped()).toBe(1);
      expect(Date.now() - started).toBeLessThanOrEqual(HANG_LIMIT_MS * 2);
      // The commit did reach the server: the image exists, and the upload found that out.
      const rows = await sql.query<{ id: string; blob_key: string }>("SELECT id, blob_key FROM images WHERE album_id = $1", [lost]);
      expect(rows.rows).toHaveLength(1);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(rows.rows[0]!.id);
      expect(await blobExists(other, rows.rows[0]!.blob_key as BlobKey)).toBe(true);
    } finally {
      await other.close();
      await proxy.close();
    }
  }, 30_000);
});
