/**
 * The embedded database on its own, in a process of its own: opened as the service opens it (durable,
 * migrated, in its worker thread), with nothing of the HTTP host loaded. It duplicates one image
 * through the repository, one call at a time, and prints one line of JSON: what its memory and each
 * duplicate cost with no HTTP and no JSON around them (see ./floors.ts).
 *
 *   node embedded-floor.child.js <data dir> <duplicates>
 */
import { randomUUID } from "node:crypto";
import { DEFAULT_TENANT, newImage, type AlbumId, type BlobKey, type ImageId } from "@image-api/core";
import { migrate, postgresImageRepository } from "@image-api/adapters/postgres";
import { createPgliteClient } from "@image-api/adapters/postgres/pglite";

const [dataDir, countArg] = process.argv.slice(2);
if (!dataDir) throw new Error("usage: embedded-floor.child.js <data dir> <duplicates>");
const count = Number(countArg ?? 1000);
const rssMb = (): number => process.memoryUsage().rss / 1e6;

const baseline = rssMb();
const t0 = performance.now();
const sql = await createPgliteClient({ dataDir, durable: true });
const migrated = await migrate(sql)();
if (migrated._tag === "Left") throw new Error(migrated.left.message);
const openMs = performance.now() - t0;
const opened = rssMb();

const repo = postgresImageRepository(sql);
const album = "floor-album" as AlbumId;
const source = newImage({
  id: randomUUID() as ImageId,
  tenant: DEFAULT_TENANT,
  createdBy: "floor",
  albumId: album,
  blob: { key: randomUUID() as BlobKey, format: "png", contentType: "image/png", bytes: 174, etag: "0".repeat(32), version: 1 },
  width: 48,
  height: 48,
  filename: "tiny",
  infos: { format: "png", width: 48, height: 48, tags: [album] },
  exifs: {},
  metadatas: {},
  gpsHtml: null,
  gpsExifs: null,
  takenAt: null,
  color: "#2878C8",
  now: new Date(),
});
const inserted = await repo.insert(source)();
if (inserted._tag === "Left") throw new Error(inserted.left.message);

const scope = { kind: "albums", albums: [album] } as const;
const samples: number[] = [];
const warmup = Math.min(200, Math.ceil(count / 5));
for (let i = 0; i < warmup + count; i++) {
  const started = performance.now();
  const copy = await repo.duplicate(DEFAULT_TENANT, source.id, scope, { id: randomUUID() as ImageId, createdBy: "floor", createdAt: new Date() })();
  if (copy._tag === "Left") throw new Error(copy.left.message);
  if (i >= warmup) samples.push(performance.now() - started);
}
samples.sort((a, b) => a - b);
// load.ts has the same percentile, but importing it would load autocannon into the memory measured here.
const at = (p: number): number => samples[Math.min(samples.length - 1, Math.ceil(p * samples.length) - 1)]!;
const loaded = rssMb();
await sql.close();
console.log(JSON.stringify({ count, openMs, baselineRssMb: baseline, openedRssMb: opened, loadedRssMb: loaded, p50Ms: at(0.5), p99Ms: at(0.99) }));
