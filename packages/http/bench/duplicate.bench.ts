/**
 * Duplicate-endpoint benchmark on the embedded defaults (PGlite + filesystem), over real HTTP.
 * Measures latency percentiles and throughput, whether the cost depends on the image's size, and
 * memory. Prints a Markdown table and writes it to bench/results/duplicate.md.
 */
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import sharp from "sharp";
import { loadConfig } from "../src/config.js";
import { claimsFor } from "../src/demo-token.js";
import { startServer } from "../src/server.js";

const ALBUM = "bench-album";
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const main = async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "image-api-bench-"));
  // IMAGE_API_DATABASE_URL (and the other variables) from the environment select another backend.
  const config = loadConfig({
    IMAGE_API_JWT_SECRET: "bench-secret-0123456789-abcdefghijklmnop",
    IMAGE_API_URL_SIGNING_KEYS: "bench-url-key-0123456789-abcdefghijklmn",
    ...process.env,
    IMAGE_API_DATA_DIR: dataDir,
    PORT: "0",
    HOST: "127.0.0.1",
  });
  const backend = process.env["IMAGE_API_DATABASE_URL"] ? "server PostgreSQL (pg)" : "embedded PGlite";
  if (E.isLeft(config)) throw new Error(config.left.join("; "));
  const running = await startServer(config.right);
  const token = await running.composition.deps.tokens.issue(
    claimsFor({ userId: "bench", albums: [ALBUM], abilities: ["image_upload", "image_duplicate"], ttlSeconds: 3600 }, new Date()),
  )();
  if (E.isLeft(token)) throw new Error(token.left.message);
  const auth = { Authorization: `Token token="${token.right}"` };

  const upload = async (width: number, height: number, noise: boolean): Promise<{ id: string; bytes: number }> => {
    const raw = Buffer.alloc(width * height * 3);
    if (noise) for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
    const png = await sharp(raw, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
    const form = new FormData();
    form.append("file", new Blob([png], { type: "image/png" }), "bench.png");
    const res = await fetch(`${running.url}/api/v1/albums/${ALBUM}/images`, { method: "POST", headers: auth, body: form });
    if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
    return { id: ((await res.json()) as { id: string }).id, bytes: png.byteLength };
  };

  const duplicateRun = async (id: string, requests: number, concurrency: number) => {
    const latencies: number[] = [];
    const runtimes: number[] = [];
    let next = 0;
    let failures = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < requests) {
        next += 1;
        const t0 = performance.now();
        const res = await fetch(`${running.url}/api/v1/images/${id}/duplicate`, { method: "POST", headers: auth });
        await res.arrayBuffer();
        latencies.push(performance.now() - t0);
        runtimes.push(Number(res.headers.get("x-runtime")) * 1000);
        if (res.status !== 200) failures += 1;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    runtimes.sort((a, b) => a - b);
    return {
      requests,
      concurrency,
      failures,
      rps: requests / seconds,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      runtimeP50: percentile(runtimes, 50),
    };
  };

  const small = await upload(48, 48, false);
  const large = await upload(3000, 2000, true);
  await duplicateRun(small.id, 200, 4); // warm-up: JIT, connection pool, caches
  const rssBefore = process.memoryUsage().rss;
  const sequential = await duplicateRun(small.id, Math.min(500, REQUESTS), 1);
  const concurrent = await duplicateRun(small.id, REQUESTS, CONCURRENCY);
  const bigSequential = await duplicateRun(large.id, Math.min(500, REQUESTS), 1);
  const rssAfter = process.memoryUsage().rss;
  await running.stop();
  await rm(dataDir, { recursive: true, force: true });

  const ms = (n: number) => n.toFixed(2);
  const row = (name: string, r: Awaited<ReturnType<typeof duplicateRun>>) =>
    `| ${name} | ${r.requests} | ${r.concurrency} | ${r.failures} | ${r.rps.toFixed(0)} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.runtimeP50)} |`;
  const report = [
    `# Duplicate benchmark (${new Date().toISOString()}, Node ${process.version}, ${backend} + filesystem)`,
    "",
    "| run | requests | concurrency | failures | req/s | p50 ms | p95 ms | p99 ms | X-Runtime p50 ms |",
    "|---|---|---|---|---|---|---|---|---|",
    row(`48×48 PNG (${small.bytes} B), sequential`, sequential),
    row(`48×48 PNG, ${CONCURRENCY} concurrent`, concurrent),
    row(`3000×2000 PNG (${(large.bytes / 1e6).toFixed(1)} MB), sequential`, bigSequential),
    "",
    `Size independence: p50 for the ${(large.bytes / 1e6).toFixed(1)} MB image is ${(bigSequential.p50 / sequential.p50).toFixed(2)}× the 48×48 one.`,
    `RSS: ${(rssBefore / 1e6).toFixed(0)} MB before the measured runs, ${(rssAfter / 1e6).toFixed(0)} MB after ${sequential.requests + concurrent.requests + bigSequential.requests} duplicates.`,
    "",
  ].join("\n");
  console.log(report);
  const dir = new URL("./results/", import.meta.url).pathname;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, process.env["IMAGE_API_DATABASE_URL"] ? "duplicate.pg.md" : "duplicate.md"), report);
};

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
