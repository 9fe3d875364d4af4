import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_TOKEN_COMMAND } from "../src/demo-token.js";
import { ROOT, runProcess, TSX } from "./run-process.js";

// The README is a newcomer's first contact: its examples are run here exactly as printed.
const readme = await readFile(join(ROOT, "README.md"), "utf8");

/** The fenced block of `lang` that follows `heading`. */
const blockAfter = (heading: string, lang: string): string => {
  const at = readme.indexOf(`## ${heading}`);
  expect(at, `README section "${heading}"`).toBeGreaterThanOrEqual(0);
  const m = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(readme.slice(at));
  expect(m, `a ${lang} block under "${heading}"`).not.toBeNull();
  return m![1]!;
};

describe("README: Embedding the core", () => {
  it("prints examples/embed-core.ts unchanged, and that file runs: upload, then a copy in the same group", async () => {
    const file = await readFile(join(ROOT, "examples/embed-core.ts"), "utf8");
    expect(blockAfter("Embedding the core", "ts")).toBe(file);
    const out = await runProcess(TSX, ["--conditions=@image-api/source", "examples/embed-core.ts"], { cwd: ROOT, env: process.env });
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout) as { source: string; copy: string; groupId: string; albumId: string };
    expect(result.copy).not.toBe(result.source);
    expect(result.groupId).toBe(result.source);
    expect(result.albumId).toBe("demo-album");
  }, 60_000);
});

describe("README: A walk through with curl", () => {
  let dataDir: string;
  let work: string;
  let server: ReturnType<typeof spawn>;
  let base: string;
  let banner = "";

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "image-api-readme-data-"));
    work = await mkdtemp(join(tmpdir(), "image-api-readme-"));
    // A fixed port, so the default public URL (http://localhost:$PORT) is the one signed URLs carry.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    server = spawn(TSX, ["--conditions=@image-api/source", join(ROOT, "packages/http/src/main.ts")], {
      cwd: ROOT,
      env: { PATH: process.env["PATH"] ?? "", IMAGE_API_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: "info" },
    });
    base = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`no listening line:\n${out}`)), 60_000);
      server.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        banner = out;
        const line = out.split("\n").find((l) => l.includes('"listening"'));
        if (line && out.includes("More tokens:")) {
          clearTimeout(timer);
          resolve(`http://localhost:${port}`);
        }
      });
      server.on("exit", (code) => reject(new Error(`server exited ${code}:\n${out}`)));
    });
  }, 90_000);

  afterAll(async () => {
    server?.kill("SIGTERM");
    await rm(dataDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it("shows in the start banner the same token command as the README", () => {
    expect(banner).toContain(`TOKEN=$(${DEMO_TOKEN_COMMAND})`);
    expect(blockAfter("A walk through with curl", "sh")).toContain(`TOKEN=$(${DEMO_TOKEN_COMMAND})`);
  });

  it("runs as printed against the service, every step succeeding", async () => {
    await writeFile(join(work, "photo.jpg"), await sharp({ create: { width: 320, height: 240, channels: 3, background: "#c06030" } }).jpeg().toBuffer());
    const script = blockAfter("A walk through with curl", "sh").replaceAll("http://localhost:3000", base);
    // The README runs from the checkout; here the outputs go to a scratch directory, and pnpm still finds the workspace.
    const prelude = `set -euo pipefail\nnpx() { (cd ${JSON.stringify(ROOT)} && command npx "$@"); }\ncurl() { command curl --fail-with-body "$@"; }\n`;
    const epilogue = `
COPY=$(node -p 'require("./copy.json").id')
echo "ID=$ID"
echo "ORIGINAL=$(command curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" ${base}/api/v1/images/$ID)"
echo "COPY=$(command curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" ${base}/api/v1/images/$COPY)"
`;
    const out = await runProcess("bash", ["-c", prelude + script + epilogue], { cwd: work, env: { ...process.env, IMAGE_API_DATA_DIR: dataDir } });
    expect(out.code, `${out.stdout}\n${out.stderr}`).toBe(0);

    const image = JSON.parse(await readFile(join(work, "image.json"), "utf8")) as { id: string; title: string; metadatas: unknown };
    const copy = JSON.parse(await readFile(join(work, "copy.json"), "utf8")) as { id: string; group_id: string };
    expect(image).toMatchObject({ title: "Sunset", metadatas: { trip: "lisbon" } });
    expect(copy.group_id).toBe(image.id);
    expect(out.stdout).toContain(`ID=${image.id}`);
    const mini = await sharp(await readFile(join(work, "mini.jpg"))).metadata();
    expect(mini.format).toBe("jpeg");
    expect(out.stdout).toMatch(/"crop_x":10\.0,"crop_y":10\.0,"crop_w":120\.0,"crop_h":80\.0/);
    // The original is gone, the copy stays.
    expect(out.stdout).toContain("ORIGINAL=404");
    expect(out.stdout).toContain("COPY=200");
  }, 120_000);
});
