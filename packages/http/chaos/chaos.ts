/**
 * Crash-consistency check: a real server process under mixed load (uploads, duplicates, renditions,
 * deletes) is killed with SIGKILL at random moments and restarted. After every restart:
 * - every acknowledged upload or duplicate is there, and its original's bytes are served;
 * - every acknowledged delete answers 404, and bytes no remaining image uses are gone with their renditions;
 * - each blob's reference count equals the images that use it, and every image's bytes exist;
 * - no file in the data dir lacks a database record.
 *
 *   npx -y pnpm@10.34.9 test:chaos [--kills 20] [--backend embedded|postgres|both] [--seed 7]
 *
 * Server PostgreSQL comes from IMAGE_API_TEST_DATABASE_URL, or a container of the locally built image
 * (IMAGE_API_TEST_POSTGRES_IMAGE). Exit code 1 when any check fails; the figures go to stdout as JSON.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createPgliteClient, createPgPoolClient, type SqlClient } from "@image-api/adapters";
import { freeLoopbackPort, POSTGRES_IMAGE_ENV, startPostgres } from "@image-api/testkit";
import { SignJWT } from "jose";
import sharp from "sharp";

const ROOT = new URL("../../../", import.meta.url).pathname;
const SECRET = "chaos-secret-0123456789-abcdefghijklmn";
const URL_KEY = "chaos-url-key-0123456789-abcdefghijklm";
const ALBUM = "chaos-album";
const ABILITIES = ["image_upload", "image_list", "image_duplicate", "image_delete"];

const { values: args } = parseArgs({
  options: { kills: { type: "string", default: "10" }, backend: { type: "string", default: "both" }, seed: { type: "string", default: String(Date.now() % 100_000) } },
});

// A small seeded PRNG (mulberry32), so a failing run can be replayed with --seed.
let state = Number(args.seed) >>> 0;
const random = (): number => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <A>(xs: readonly A[]): A | undefined => xs[Math.floor(random() * xs.length)];

interface Acked {
  readonly id: string;
  readonly key: string;
  readonly bytes: number;
  readonly originalUrl: string;
  readonly thumbnails: readonly string[];
}

/** What the clients were told: the server must honour all of it after any crash. */
class Ledger {
  readonly live = new Map<string, Acked>();
  readonly deleted = new Map<string, Acked>();
  /** Requests cut by the kill: either outcome is allowed, so they are left out of the checks. */
  readonly unsure = new Set<string>();
  requests = 0;
}

const blobKeyOf = (url: string): string => new URL(url).pathname.split("/").at(-3)!;

const token = async (): Promise<string> => {
  const now = Math.floor(Date.now() / 1000);
  const access = Object.fromEntries(ABILITIES.map((a) => [a, true]));
  return new SignJWT({ exp: now + 4 * 3600, iat: now, user_id: "chaos", abilities: { [ALBUM]: { Access: access } } })
    .setProtectedHeader({ typ: "JWT", alg: "HS256" })
    .sign(new TextEncoder().encode(SECRET));
};

const toAcked = (body: Record<string, any>): Acked => ({
  id: body.id,
  key: blobKeyOf(body.thumbnails.large),
  bytes: Number(body.size ?? body.infos?.bytes ?? 0),
  originalUrl: body.original_url,
  thumbnails: [body.thumbnails.large, body.thumbnails.mini, body.external_urls.fit2000],
});

/** One client: random operations until `stop` says so; cut requests go to `unsure`. */
const client = async (base: string, auth: string, ledger: Ledger, stop: () => boolean): Promise<void> => {
  while (!stop()) {
    const roll = random();
    const target = pick([...ledger.live.values()]);
    ledger.requests++;
    try {
      if (roll < 0.35 || !target) {
        const side = 64 + Math.floor(random() * 400);
        const png = await sharp({ create: { width: side, height: side, channels: 3, background: { r: side % 256, g: 80, b: 160 } } }).png().toBuffer();
        const form = new FormData();
        form.append("file", new Blob([png], { type: "image/png" }), "chaos.png");
        const res = await fetch(`${base}/api/v1/albums/${ALBUM}/images`, { method: "POST", headers: { Authorization: auth }, body: form });
        if (res.status === 200) ledger.live.set(...entry(toAcked((await res.json()) as Record<string, any>)));
        else await res.body?.cancel();
      } else if (roll < 0.6) {
        const res = await fetch(`${base}/api/v1/images/${target.id}/duplicate`, { method: "POST", headers: { Authorization: auth } });
        if (res.status === 200) ledger.live.set(...entry(toAcked((await res.json()) as Record<string, any>)));
        else await res.body?.cancel();
      } else if (roll < 0.85) {
        const res = await fetch(pick(target.thumbnails)!);
        await res.arrayBuffer();
      } else {
        ledger.live.delete(target.id);
        ledger.unsure.add(target.id);
        const res = await fetch(`${base}/api/v1/images/${target.id}`, { method: "DELETE", headers: { Authorization: auth } });
        await res.body?.cancel();
        if (res.status === 204) {
          ledger.unsure.delete(target.id);
          ledger.deleted.set(target.id, target);
        } else if (res.status !== 503 && res.status < 500) {
          ledger.unsure.delete(target.id);
          ledger.live.set(target.id, target);
        }
      }
    } catch {
      // The server went away mid-request: that request's outcome is unknown, and fine either way.
    }
  }
};
const entry = (a: Acked): [string, Acked] => [a.id, a];

interface Server {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

const startServer = (env: Record<string, string>): Server => {
  // tsx as a loader in the server's own process: the tsx command would run it in a child, and SIGKILL
  // cannot be relayed, so the kill would hit the wrapper and leave the server running.
  const child = spawn(process.execPath, ["--conditions=@image-api/source", "--import", "tsx", join(ROOT, "packages/http/src/main.ts")], {
    cwd: ROOT,
    env: { PATH: process.env["PATH"] ?? "", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return { child, exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))) };
};

const untilReady = async (base: string, server: Server): Promise<number> => {
  const t0 = performance.now();
  let exited = false;
  void server.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error("the server exited while starting");
    const ok = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) return performance.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** Files under `dir` (relative), or none when it does not exist. */
const filesUnder = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));

/** `swept`: the start's sweep has run since the last kill, so no delete may still be pending. */
const checkStorage = async (sql: SqlClient, blobRoot: string, ledger: Ledger, problems: string[], swept: boolean): Promise<void> => {
  const blobs = new Map((await sql.query<{ key: string; refs: number; used: number }>(
    "SELECT b.key, b.refs, (SELECT count(*)::int FROM images i WHERE i.blob_key = b.key) AS used FROM blobs b",
  )).rows.map((r) => [r.key, r]));
  // refs is 1 exactly while an image holds the blob.
  for (const b of blobs.values()) if (b.refs !== Math.min(1, b.used)) problems.push(`blob ${b.key}: refs ${b.refs}, used by ${b.used} images`);
  for (const file of await filesUnder(join(blobRoot, "blobs"))) {
    const key = file.split("/").at(-1)!;
    if (!blobs.has(key)) problems.push(`file without a record: ${file}`);
  }
  for (const dir of await readdir(join(blobRoot, "renditions")).catch(() => [] as string[])) {
    if (!blobs.has(dir)) problems.push(`renditions without a record: ${dir}`);
    // An upload cut by the kill leaves its blob reserved, with the directory made for its renditions
    // (empty: nothing renders an image that was never stored) until the reservation's grace runs out.
    else if (swept && blobs.get(dir)!.refs === 0 && (await filesUnder(join(blobRoot, "renditions", dir))).length > 0) {
      problems.push(`renditions of a blob no image uses: ${dir}`);
    }
  }
  for (const b of blobs.values()) {
    if (b.refs > 0 && !(await stat(join(blobRoot, "blobs", b.key.slice(0, 2), b.key)).catch(() => null))) problems.push(`blob ${b.key} in use but its file is missing`);
  }
  // Bytes of acknowledged deletes go once nothing else uses them (the start's sweep retries any a kill interrupted).
  if (!swept) return;
  const liveKeys = new Set([...ledger.live.values()].map((a) => a.key));
  for (const d of ledger.deleted.values()) {
    if (!liveKeys.has(d.key) && (blobs.get(d.key)?.refs ?? 0) === 0 && (await stat(join(blobRoot, "blobs", d.key.slice(0, 2), d.key)).catch(() => null))) {
      problems.push(`bytes of deleted image ${d.id} still stored`);
    }
  }
};

const checkApi = async (base: string, auth: string, ledger: Ledger, problems: string[]): Promise<number> => {
  let checked = 0;
  for (const a of ledger.live.values()) {
    const res = await fetch(`${base}/api/v1/images/${a.id}`, { headers: { Authorization: auth } });
    await res.body?.cancel();
    if (res.status !== 200) problems.push(`acknowledged image ${a.id}: GET answered ${res.status}`);
    const original = await fetch(a.originalUrl);
    const bytes = (await original.arrayBuffer()).byteLength;
    if (original.status !== 200 || (a.bytes > 0 && bytes !== a.bytes)) problems.push(`acknowledged image ${a.id}: original answered ${original.status} with ${bytes} bytes`);
    checked++;
  }
  for (const d of ledger.deleted.values()) {
    const res = await fetch(`${base}/api/v1/images/${d.id}`, { headers: { Authorization: auth } });
    await res.body?.cancel();
    if (res.status !== 404) problems.push(`deleted image ${d.id}: GET answered ${res.status}`);
    checked++;
  }
  return checked;
};

interface Backend {
  readonly name: string;
  readonly env: Record<string, string>;
  /** A client on the database while no server runs (PGlite allows one process at a time). */
  readonly open: () => Promise<SqlClient>;
  readonly close: () => Promise<void>;
}

const runBackend = async (backend: Backend, dataDir: string, kills: number) => {
  const port = await freeLoopbackPort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...backend.env, PORT: String(port), IMAGE_API_DATA_DIR: dataDir, IMAGE_API_JWT_SECRET: SECRET, IMAGE_API_URL_SIGNING_KEYS: URL_KEY, IMAGE_API_PUBLIC_URL: base };
  const auth = `Token token="${await token()}"`;
  const ledger = new Ledger();
  const problems: string[] = [];
  const restarts: number[] = [];
  let checked = 0;
  for (let round = 0; round <= kills; round++) {
    const server = startServer(env);
    restarts.push(await untilReady(base, server));
    checked += await checkApi(base, auth, ledger, problems);
    if (round === kills) {
      server.child.kill("SIGTERM");
      await server.exited;
      break;
    }
    let stopped = false;
    const clients = Array.from({ length: 6 }, () => client(base, auth, ledger, () => stopped));
    await new Promise((resolve) => setTimeout(resolve, 400 + random() * 1600));
    server.child.kill("SIGKILL");
    await server.exited;
    stopped = true;
    await Promise.all(clients);
    const sql = await backend.open();
    try {
      await checkStorage(sql, join(dataDir, "blobs"), ledger, problems, false);
    } finally {
      await sql.close();
    }
  }
  // The last check after a clean stop: the sweep has run, so deleted bytes must all be gone.
  const sql = await backend.open();
  try {
    await checkStorage(sql, join(dataDir, "blobs"), ledger, problems, true);
  } finally {
    await sql.close();
  }
  const sorted = [...restarts.slice(1)].sort((a, b) => a - b);
  return {
    backend: backend.name,
    kills,
    requests: ledger.requests,
    acknowledged_live: ledger.live.size,
    acknowledged_deletes: ledger.deleted.size,
    unsure: ledger.unsure.size,
    checks: checked,
    restart_to_ready_ms: { median: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0), max: Math.round(sorted.at(-1) ?? 0) },
    problems,
  };
};

const main = async () => {
  const kills = Number(args.kills);
  const which = args.backend === "both" ? ["embedded", "postgres"] : [args.backend];
  const results = [];
  for (const name of which) {
    const dataDir = await mkdtemp(join(tmpdir(), `image-api-chaos-${name}-`));
    let backend: Backend;
    if (name === "embedded") {
      backend = { name, env: {}, open: () => createPgliteClient({ dataDir: join(dataDir, "db") }), close: async () => {} };
    } else if (name === "postgres") {
      const external = process.env["IMAGE_API_TEST_DATABASE_URL"];
      const started = external ? null : await startPostgres(process.env[POSTGRES_IMAGE_ENV]);
      const root = external ?? started!.url;
      // A database of its own, so the checks see only this run's rows.
      const admin = createPgPoolClient({ connectionString: root, max: 1 });
      const db = `chaos_test_${process.pid}`;
      await admin.query(`DROP DATABASE IF EXISTS ${db}`);
      await admin.query(`CREATE DATABASE ${db}`);
      const url = Object.assign(new URL(root), { pathname: `/${db}` }).toString();
      backend = {
        name,
        env: { IMAGE_API_DATABASE_URL: url },
        open: async () => createPgPoolClient({ connectionString: url, max: 2 }),
        close: async () => {
          await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
          await admin.close();
          await started?.stop();
        },
      };
    } else throw new Error(`unknown backend ${name}`);
    try {
      results.push(await runBackend(backend, dataDir, kills));
    } finally {
      await backend.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  console.log(JSON.stringify({ seed: Number(args.seed), results }, null, 2));
  if (results.some((r) => r.problems.length > 0)) process.exitCode = 1;
};

await main();
