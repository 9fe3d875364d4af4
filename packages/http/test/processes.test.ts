import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturePng } from "./harness.js";
import { ROOT, runProcess, TSX, type Exit } from "./run-process.js";

const runScript = (script: string, args: string[], env: Record<string, string>): Promise<Exit> =>
  runProcess(TSX, ["--conditions=@image-api/source", join(ROOT, script), ...args], { env: { PATH: process.env["PATH"] ?? "", ...env } });

const SECRET = "cli-secret-0123456789-abcdefghijklmnopq";

describe("image-api token (CLI)", () => {
  it("prints a token in the family's shape, signed with the configured secret", async () => {
    const before = Math.floor(Date.now() / 1000);
    const out = await runScript("packages/http/src/cli.ts", ["token", "--user", "u-1", "--album", "A1", "--album", "A2", "--abilities", "image_upload,image_duplicate", "--ttl", "2h"], {
      IMAGE_API_JWT_SECRET: SECRET,
    });
    expect(out.code, out.stderr).toBe(0);
    const { payload, protectedHeader } = await jwtVerify(out.stdout.trim(), new TextEncoder().encode(SECRET), { algorithms: ["HS256"] });
    expect(protectedHeader).toEqual({ typ: "JWT", alg: "HS256" });
    const access = { Access: { image_upload: true, image_duplicate: true } };
    expect(payload).toMatchObject({ user_id: "u-1", abilities: { A1: access, A2: access } });
    expect(payload.exp! - payload.iat!).toBe(7200);
    expect(payload.iat!).toBeGreaterThanOrEqual(before);
  }, 60_000);

  it("prints the token alone through the README's `pnpm -s image-api token` form, so $(…) captures it", async () => {
    const out = await runProcess("npx", ["-y", "pnpm@10.34.9", "-s", "image-api", "token", "--user", "me", "--album", "demo-album", "--abilities", "image_upload,image_duplicate"], {
      env: { ...process.env, IMAGE_API_JWT_SECRET: SECRET },
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    await expect(jwtVerify(out.stdout.trim(), new TextEncoder().encode(SECRET))).resolves.toBeDefined();
  }, 60_000);

  it.each([["--help"], ["-h"], ["token", "--help"], []])("%j prints the help on stdout and exits 0", async (...args) => {
    const out = await runScript("packages/http/src/cli.ts", args, {});
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain("usage: image-api token");
    expect(out.stdout).toContain("image_duplicate");
    expect(out.stdout).toContain("IMAGE_API_JWT_SECRET");
  }, 60_000);

  it.each([
    [["token", "--user", "u", "--album", "A1", "--abilities", "image_fly"], "unknown abilities: image_fly"],
    [["token", "--album", "A1", "--abilities", "image_list"], "--user is required"],
    [["token", "--user", "u", "--album", "A1", "--abilities", "image_list", "--ttl", "soon"], "bad --ttl"],
    [["launch"], "unknown command: launch"],
  ])("refuses %j with a usage message and exit code 2", async (args, message) => {
    const out = await runScript("packages/http/src/cli.ts", args, { IMAGE_API_JWT_SECRET: SECRET });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(message);
    expect(out.stderr).toContain("usage: image-api token");
    expect(out.stdout).toBe("");
  }, 60_000);
});

describe("the service's entry point", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "image-api-main-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("refuses a bad configuration naming the variable, before listening", async () => {
    const out = await runScript("packages/http/src/main.ts", [], { PORT: "70000", LOG_LEVEL: "loud", IMAGE_API_DATA_DIR: dataDir, IMAGE_API_STORAGE: "s3" });
    expect(out.code).toBe(1);
    // Every problem at once: a bad value, another bad value, and what the storage choice still lacks.
    expect(out.stderr).toContain("PORT: must be a whole number from 0 to 65535");
    expect(out.stderr).toContain("LOG_LEVEL:");
    expect(out.stderr).toContain("IMAGE_API_S3_BUCKET: required when IMAGE_API_STORAGE=s3");
    expect(out.stdout).not.toContain("listening");
  }, 60_000);

  it("on embedded defaults generates secrets into the data dir, prints a working demo token, and stops cleanly", async () => {
    const child = spawn(TSX, ["--conditions=@image-api/source", join(ROOT, "packages/http/src/main.ts")], {
      // No HOST: the embedded default listens on loopback only.
      env: { PATH: process.env["PATH"] ?? "", PORT: "0", IMAGE_API_DATA_DIR: dataDir },
      cwd: ROOT,
    });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    try {
      await expect.poll(() => stdout, { timeout: 60_000, interval: 200 }).toContain("curl");
      const logLines = () => stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
      const listening = logLines().find((l) => l["msg"] === "listening");
      expect(listening).toMatchObject({ host: "127.0.0.1", database: "embedded", storage: "filesystem" });
      const port = listening?.["port"];
      const token = /Demo token[^\n]*\n\s+(\S+)/.exec(stdout)?.[1];
      expect(port).toBeDefined();
      expect(token).toBeDefined();
      const secrets = JSON.parse(await readFile(join(dataDir, "secrets.json"), "utf8")) as { jwtSecret: string };
      await jwtVerify(token!, new TextEncoder().encode(secrets.jwtSecret), { algorithms: ["HS256"] });

      const form = new FormData();
      form.append("file", new Blob([await fixturePng()], { type: "image/png" }), "demo.png");
      const up = await fetch(`http://127.0.0.1:${port}/api/v1/albums/demo-album/images`, {
        method: "POST",
        headers: { Authorization: `Token token="${token}"` },
        body: form,
      });
      expect(up.status).toBe(200);
      const dup = await fetch(`http://127.0.0.1:${port}/api/v1/images/${((await up.json()) as { id: string }).id}/duplicate`, {
        method: "POST",
        headers: { Authorization: `Token token="${token}"` },
      });
      expect(dup.status).toBe(200);
      const xToken = dup.headers.get("x-token")!;
      await expect.poll(() => logLines().filter((l) => l["msg"] === "request").length).toBe(2);
      const [upLine, dupLine] = logLines().filter((l) => l["msg"] === "request");
      expect(upLine).toMatchObject({ method: "POST", route: "/api/v1/albums/:album_id/images", status: 200 });
      expect(dupLine).toMatchObject({ method: "POST", route: "/api/v1/images/:id/duplicate", status: 200 });
      // Only the banner, meant for the person who started it, shows the demo token; no log line does.
      const logged = stdout.split("\n").filter((l) => l.startsWith("{")).join("\n");
      for (const s of [token!, xToken, secrets.jwtSecret]) expect(logged).not.toContain(s);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
    expect(stdout).toContain('"msg":"stopped"');
  }, 90_000);
});
