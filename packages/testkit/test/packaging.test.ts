import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../../..");
const PNPM = join(ROOT, "node_modules/.bin/pnpm");

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), "image-api-pack-"));
  // The libraries are published compiled: build them (incremental), then pack as a release would.
  await run(PNPM, ["--filter", "@image-api/core", "--filter", "@image-api/adapters", "--filter", "@image-api/testkit", "build"], { cwd: ROOT });
}, 180_000);
afterAll(() => rm(out, { recursive: true, force: true }));

describe.each(["core", "adapters", "testkit"])("the packed @image-api/%s", (name) => {
  let files: string[];
  let manifest: { license?: string; types?: string; exports: Record<string, Record<string, string>> };
  beforeAll(async () => {
    const dest = join(out, name);
    await run(PNPM, ["pack", "--pack-destination", dest], { cwd: join(ROOT, "packages", name) });
    const { stdout } = await run("sh", ["-c", `cd ${dest} && tar xzf *.tgz && tar tzf *.tgz`]);
    files = stdout.trim().split("\n").map((f) => f.replace(/^package\//, ""));
    manifest = JSON.parse(await readFile(join(dest, "package", "package.json"), "utf8"));
  }, 60_000);

  it("holds compiled JS, declarations, the licence and the manifest", () => {
    expect(files).toContain("package.json");
    expect(files).toContain("LICENSE");
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    expect(manifest.license).toBe("MIT");
  });

  it("leaves out tests, sources, tsconfig and build state", () => {
    const stray = files.filter((f) => /(^|\/)test\/|\.test\.|^src\/|tsconfig|tsbuildinfo/.test(f));
    expect(stray).toEqual([]);
  });

  it("resolves its types and default export to files it ships", () => {
    const entry = manifest.exports["."]!;
    for (const target of [manifest.types, entry["types"], entry["default"]]) {
      expect(target).toBeDefined();
      expect(files).toContain(target!.replace(/^\.\//, ""));
    }
  });
});
