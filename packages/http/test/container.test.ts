import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgPoolClient } from "@image-api/adapters";
import { assertTestDatabase, freeLoopbackPort, planNodeBase, testDatabaseUrl } from "@image-api/testkit";
import { fixturePng, freshAlbum, UUID_RE } from "./harness.js";
import { ROOT, runProcess, type Exit } from "./run-process.js";

/**
 * The service's container image, built from the repository's Dockerfile on the locally built Node.js
 * base (IMAGE_API_TEST_NODE_IMAGE, see scripts/ci/build-images.sh) and run as an operator would: on the
 * embedded defaults, then against the run's Postgres. Docker is driven through its CLI, which works with
 * the legacy builder (Docker 20.10 without buildx) as well as with BuildKit.
 */

const plan = await planNodeBase();
if (plan.kind === "skip") console.warn(`\n[container] skipped: ${plan.reason}\n`);
const baseImage = plan.kind === "container" ? plan.image : undefined;

/** Tags the cache is kept under between runs; every image of these tests carries LABEL. */
const BUILD_TAG = "image-api-test/service-build:latest";
const IMAGE_TAG = "image-api-test/service:latest";
const LABEL = "org.image-api.test=service";
const BUILD_TIMEOUT_MS = 10 * 60_000;
const READY_TIMEOUT_MS = 90_000;
/** What "stops promptly" means: the service drains in milliseconds, Docker would kill it after the -t grace. */
const STOP_LIMIT_MS = 10_000;
const STOP_GRACE_S = 30;
const SECRET = "container-test-jwt-secret-0123456789abcdef";
const URL_KEY = "container-test-url-key-0123456789abcdefgh";
const ABILITIES = "image_upload,image_duplicate,image_list";

/** Runs the docker CLI; resolves with whatever it printed, rejects only if it could not be started. */
const docker = (args: readonly string[], timeoutMs = 60_000): Promise<Exit> =>
  // The legacy builder unless told otherwise: BuildKit needs buildx, which this Docker may lack.
  runProcess("docker", args, { env: { ...process.env, DOCKER_BUILDKIT: process.env["DOCKER_BUILDKIT"] ?? "0" }, timeout: timeoutMs, killSignal: "SIGKILL" });

/** Like `docker`, but a non-zero exit is an error carrying the end of the output. */
const dockerOk = async (args: readonly string[], timeoutMs?: number): Promise<string> => {
  const out = await docker(args, timeoutMs);
  if (out.code !== 0) {
    const tail = `${out.stdout}\n${out.stderr}`.slice(-4_000);
    throw new Error(`docker ${args.slice(0, 2).join(" ")} … exited ${out.code}:\n${tail}`);
  }
  return out.stdout.trim();
};

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The measured numbers, printed once at the end so they are easy to find in the run's output. */
const report: string[] = [];
const record = (line: string): void => {
  report.push(line);
  console.log(`[container] ${line}`);
};

/** Builds the image and returns its id; the build stage is tagged too, so both stay cached. */
const buildImage = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "image-api-container-"));
  const iidfile = join(dir, "iid");
  const common = ["--build-arg", `BASE_IMAGE=${baseImage}`, "--label", LABEL, "--file", join(ROOT, "Dockerfile")];
  try {
    const t0 = performance.now();
    // The stage with the dev dependencies first, under a tag of its own: otherwise the legacy builder
    // leaves it untagged, and a later build's prune (below) could not tell it from anyone else's.
    await dockerOk(["build", ...common, "--target", "build", "--tag", BUILD_TAG, ROOT], BUILD_TIMEOUT_MS);
    // Then the runtime stage, on the build stage just cached.
    await dockerOk(["build", ...common, "--tag", IMAGE_TAG, "--iidfile", iidfile, ROOT], BUILD_TIMEOUT_MS);
    const id = (await readFile(iidfile, "utf8")).trim();
    record(`image build: ${seconds(performance.now() - t0)} (${id.slice(7, 19)})`);
    // Images of earlier builds that a newer one has untagged; an hour's margin keeps those that a test
    // run going on at the same time may still be about to start.
    await docker(["image", "prune", "--force", "--filter", `label=${LABEL}`, "--filter", "until=1h"]);
    return id;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/** Containers this file started, removed at the end whatever happened. */
const started: string[] = [];

const runContainer = async (image: string, args: readonly string[]): Promise<{ id: string; startedAt: number }> => {
  const startedAt = performance.now();
  const id = await dockerOk(["run", "--detach", "--label", LABEL, ...args, image]);
  started.push(id);
  return { id, startedAt };
};

/** Polls /readyz until it answers 200; returns when that happened (performance.now()). */
const untilReady = async (base: string, id: string): Promise<number> => {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const status = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return performance.now();
    if (Date.now() > deadline) {
      const logs = await docker(["logs", "--tail", "40", id]);
      throw new Error(`/readyz did not answer 200 within ${READY_TIMEOUT_MS} ms (last: ${status}):\n${logs.stdout}${logs.stderr}`);
    }
    await sleep(50);
  }
};

/** The service's pino lines (stdout), parsed; the start banner and anything else is left out. */
const logLines = async (id: string): Promise<Record<string, any>[]> => {
  const { stdout } = await docker(["logs", id]);
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, any>);
};

/** A token minted by the image's own CLI, inside the container, with the secret the service uses. */
const cliToken = (id: string, album: string): Promise<string> =>
  dockerOk(["exec", id, "node", "dist/cli.js", "token", "--user", "container-test", "--album", album, "--abilities", ABILITIES]);

/** A service URL as the client reaches it: the public URL's path and query on the published port. */
const reach = (base: string, url: string): string => {
  const u = new URL(url);
  return `${base}${u.pathname}${u.search}`;
};

/** The seed exchange, over HTTP: upload → duplicate → the copy's mini thumbnail is a rendered image. */
const uploadDuplicateThumbnail = async (base: string, token: string, album: string): Promise<void> => {
  const auth = { Authorization: `Token token="${token}"` };
  const png = await fixturePng(64, 48, "#3366CC");
  const form = new FormData();
  form.append("file", new Blob([png], { type: "image/png" }), "Container Test.png");
  const up = await fetch(`${base}/api/v1/albums/${album}/images`, { method: "POST", headers: auth, body: form });
  expect(up.status, await up.clone().text()).toBe(200);
  const source = (await up.json()) as Record<string, any>;
  expect(source.id).toMatch(UUID_RE);
  expect(source.album_id).toBe(album);

  const dup = await fetch(`${base}/api/v1/images/${source.id}/duplicate`, { method: "POST", headers: auth });
  expect(dup.status, await dup.clone().text()).toBe(200);
  const copy = (await dup.json()) as Record<string, any>;
  expect(copy.id).toMatch(UUID_RE);
  expect(copy.id).not.toBe(source.id);
  expect(copy.group_id).toBe(source.id);

  // Rendered by sharp inside the container: proof that its native binary works in the runtime image.
  const mini = await fetch(reach(base, copy.thumbnails.mini as string));
  expect(mini.status).toBe(200);
  expect(mini.headers.get("content-type")).toMatch(/^image\//);
  expect((await sharp(Buffer.from(await mini.arrayBuffer())).metadata()).width).toBe(100);
};

/** `docker stop` (SIGTERM), timed; the container must have exited 0 after logging "stopped". */
const stopCleanly = async (id: string): Promise<number> => {
  const t0 = performance.now();
  await dockerOk(["stop", "--time", String(STOP_GRACE_S), id], (STOP_GRACE_S + 30) * 1000);
  const elapsed = performance.now() - t0;
  const state = JSON.parse(await dockerOk(["inspect", "--format", "{{json .State}}", id])) as { ExitCode: number; OOMKilled: boolean };
  expect(state.ExitCode).toBe(0);
  const lines = await logLines(id);
  expect(lines.find((l) => l.msg === "shutting down")?.signal).toBe("SIGTERM");
  expect(lines.some((l) => l.msg === "stopped")).toBe(true);
  expect(elapsed).toBeLessThan(STOP_LIMIT_MS);
  return elapsed;
};

describe.skipIf(!baseImage)("the container image", () => {
  let image: string;

  beforeAll(async () => {
    image = await buildImage();
  }, 2 * BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (started.length > 0) await docker(["rm", "--force", "--volumes", ...started]);
    if (report.length > 0) console.log(`\n[container] measured:\n  ${report.join("\n  ")}\n`);
  });

  it("is the runtime stage: production dependencies only, a non-root user, a health check on /readyz", async () => {
    const config = JSON.parse(await dockerOk(["image", "inspect", "--format", "{{json .Config}}", image])) as Record<string, any>;
    expect(config.User).toBe("10001:10001");
    expect(config.WorkingDir).toBe("/app");
    expect(config.Cmd).toEqual(["node", "dist/main.js"]);
    expect(config.Env).toEqual(expect.arrayContaining(["NODE_ENV=production", "HOST=0.0.0.0", "PORT=3000", "IMAGE_API_DATA_DIR=/data"]));
    expect(config.Healthcheck.Test.join(" ")).toContain("/readyz");
    const size = Number(await dockerOk(["image", "inspect", "--format", "{{.Size}}", image]));
    const base = Number(await dockerOk(["image", "inspect", "--format", "{{.Size}}", baseImage!]));
    record(`image size: ${(size / 1e6).toFixed(0)} MB (the base ${(base / 1e6).toFixed(0)} MB + the service ${((size - base) / 1e6).toFixed(0)} MB)`);

    // What /app holds, listed by the image's own node; sharp is loaded the way the adapters load it.
    const script = `
      const fs = require("node:fs");
      const adapters = fs.realpathSync("/app/node_modules/@image-api/adapters");
      const sharp = require("node:module").createRequire(adapters + "/package.json")("sharp");
      console.log(JSON.stringify({
        app: fs.readdirSync("/app").sort(),
        top: fs.readdirSync("/app/node_modules").sort(),
        store: fs.readdirSync("/app/node_modules/.pnpm"),
        vips: sharp.versions.vips,
      }));`;
    const listed = JSON.parse(await dockerOk(["run", "--rm", image, "node", "-e", script])) as Record<string, any>;
    expect(listed.app).toEqual(["dist", "node_modules", "package.json"]);
    expect(listed.top).not.toContain("vitest");
    expect(listed.top).not.toContain("typescript");
    const devOnly = /^(vitest|typescript|tsx|@vitest\+|testcontainers|supertest|playwright-core|esbuild|s3rver|@types\+|@image-api\+testkit)@?/;
    expect((listed.store as string[]).filter((dir) => devOnly.test(dir))).toEqual([]);
    expect(listed.vips).toMatch(/^\d+\.\d+/);
  }, 120_000);

  it("on the embedded defaults: gets ready, serves upload → duplicate → thumbnail, and stops on SIGTERM", async () => {
    // The image's defaults as they are: PGlite and files in /data, secrets generated on first start.
    const { id, startedAt } = await runContainer(image, ["--publish", "127.0.0.1::3000"]);
    const published = await dockerOk(["port", id, "3000/tcp"]);
    const base = `http://${published.split("\n")[0]}`;
    const ready = await untilReady(base, id);
    const listening = (await logLines(id)).find((l) => l.msg === "listening");
    expect(listening).toMatchObject({ host: "0.0.0.0", port: 3000, database: "embedded", storage: "filesystem" });
    record(`embedded defaults: start → first /readyz 200 in ${seconds(ready - startedAt)} (the service's own startup_ms: ${listening?.startup_ms})`);

    // The image's HEALTHCHECK command, run as Docker would run it, answers healthy.
    const health = JSON.parse(await dockerOk(["image", "inspect", "--format", "{{json .Config.Healthcheck.Test}}", image])) as string[];
    expect(health[0]).toBe("CMD");
    expect((await docker(["exec", id, ...health.slice(1)])).code).toBe(0);

    const album = freshAlbum("CTE");
    await uploadDuplicateThumbnail(base, await cliToken(id, album), album);

    const stop = await stopCleanly(id);
    record(`embedded defaults: docker stop → exited 0 in ${seconds(stop)}`);
  }, 180_000);

  describe("on server Postgres", () => {
    const runUrl = testDatabaseUrl();
    let databaseUrl: string;
    let dropDatabase: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      if (!runUrl) return;
      // A database of its own, so the service's tables never meet those of other test files.
      const name = `container_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      const admin = createPgPoolClient({ connectionString: assertTestDatabase(runUrl), max: 1 });
      await admin.exec(`CREATE DATABASE ${name}`);
      const url = new URL(runUrl);
      url.pathname = `/${name}`;
      databaseUrl = url.toString();
      dropDatabase = async () => {
        await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.close();
      };
    });
    afterAll(async () => {
      await dropDatabase?.();
    });

    it.skipIf(!runUrl)("gets ready and serves upload → duplicate", async () => {
      // Host networking: the database is published on this machine's loopback, where the container
      // then reaches it too; the service listens on loopback only, on a port of its own.
      const port = await freeLoopbackPort();
      const { id, startedAt } = await runContainer(image, [
        "--network",
        "host",
        ...["--env", "HOST=127.0.0.1", "--env", `PORT=${port}`, "--env", `IMAGE_API_PUBLIC_URL=http://127.0.0.1:${port}`],
        ...["--env", `IMAGE_API_DATABASE_URL=${databaseUrl}`, "--env", `IMAGE_API_JWT_SECRET=${SECRET}`, "--env", `IMAGE_API_URL_SIGNING_KEYS=${URL_KEY}`],
      ]);
      const base = `http://127.0.0.1:${port}`;
      const ready = await untilReady(base, id);
      const listening = (await logLines(id)).find((l) => l.msg === "listening");
      expect(listening).toMatchObject({ database: "postgres", storage: "filesystem" });
      record(`server Postgres: start → first /readyz 200 in ${seconds(ready - startedAt)} (the service's own startup_ms: ${listening?.startup_ms})`);

      const album = freshAlbum("CTP");
      await uploadDuplicateThumbnail(base, await cliToken(id, album), album);

      const stop = await stopCleanly(id);
      record(`server Postgres: docker stop → exited 0 in ${seconds(stop)}`);
    }, 180_000);
  });
});
