import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken, seedClaims } from "@image-api/testkit";
import { loadConfig } from "../src/config.js";
import { defaultJwtSecret, generatesSecrets } from "../src/secrets.js";
import { decodeJwt, freshAlbum, SECRET, startTestApp, URL_KEY, type TestApp } from "./harness.js";
import { ROOT, runProcess, TSX, type Exit } from "./run-process.js";

const A_CURRENT = "tenant-a-current-secret-0123456789abcdefgh";
const A_PREVIOUS = "tenant-a-previous-secret-0123456789abcdefg";
const B_SECRET = "tenant-b-secret-0123456789abcdefghijklmnop";
const TENANTS = `tenant-a=${A_CURRENT},tenant-b=${B_SECRET},tenant-a=${A_PREVIOUS}`;
const ALL_SECRETS = [A_CURRENT, A_PREVIOUS, B_SECRET, SECRET];

const problemsOf = (env: Record<string, string>): string[] => {
  const r = loadConfig(env);
  return E.isLeft(r) ? r.left : [];
};
const SHARED = { IMAGE_API_DATABASE_URL: "postgres://app@db/images", IMAGE_API_URL_SIGNING_KEYS: URL_KEY };

describe("IMAGE_API_JWT_SECRETS", () => {
  it("reads iss=secret pairs: an issuer listed again gains a secret, its first one signs", () => {
    const config = loadConfig({ IMAGE_API_JWT_SECRETS: ` ${TENANTS} ,` });
    if (E.isLeft(config)) throw new Error(config.left.join("; "));
    expect(config.right.jwtSecrets).toEqual(
      new Map([
        ["tenant-a", [A_CURRENT, A_PREVIOUS]],
        ["tenant-b", [B_SECRET]],
      ]),
    );
    expect(config.right.jwtSecret).toBeUndefined();
  });

  it("keeps = inside a secret: only the first = separates the iss", () => {
    const config = loadConfig({ IMAGE_API_JWT_SECRETS: `https://id.example.org/=${"s".repeat(30)}==` });
    expect(E.isRight(config) && config.right.jwtSecrets).toEqual(new Map([["https://id.example.org/", [`${"s".repeat(30)}==`]]]));
  });

  it.for([
    ["no pair", ",", /no pair given/],
    ["a pair without =", `tenant-a=${A_CURRENT},${B_SECRET}`, /entry 2 is not iss=secret/],
    ["an empty iss", `=${A_CURRENT}`, /entry 1 has an empty iss/],
    ["an iss with a space", `tenant a=${A_CURRENT}`, /entry 1 has spaces or control characters in its iss/],
    ["a short secret", `tenant-a=${A_CURRENT},tenant-b=short-secret`, /entry 2 has a secret shorter than 32 characters/],
    ["a secret two issuers share", `tenant-a=${A_CURRENT},tenant-b=${A_CURRENT}`, /entry 2 reuses another issuer's secret/],
  ] as const)("refuses %s, clearly and without echoing a secret", ([, value, message]) => {
    const problems = problemsOf({ IMAGE_API_JWT_SECRETS: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^IMAGE_API_JWT_SECRETS: must be comma-separated iss=secret pairs, each secret at least 32 characters/);
    expect(problems[0]).toMatch(message);
    for (const s of [...ALL_SECRETS, "short-secret"]) expect(problems[0]).not.toContain(s);
  });

  it("reports every bad entry at once", () => {
    const problems = problemsOf({ IMAGE_API_JWT_SECRETS: `nope,=x,tenant-b=${B_SECRET}` });
    expect(problems[0]).toMatch(/entry 1 is not iss=secret; entry 2 has an empty iss; entry 2 has a secret shorter than 32 characters/);
  });

  it("refuses an issuer holding the default tenant's secret", () => {
    const problems = problemsOf({ IMAGE_API_JWT_SECRET: SECRET, IMAGE_API_JWT_SECRETS: `tenant-a=${A_CURRENT},tenant-b=${SECRET}` });
    expect(problems).toEqual([`IMAGE_API_JWT_SECRETS: issuer "tenant-b" has the secret of IMAGE_API_JWT_SECRET, the default tenant's (each tenant needs its own)`]);
  });

  it("satisfies a shared backend alone, as IMAGE_API_JWT_SECRET does; one of them is required", () => {
    expect(problemsOf({ ...SHARED, IMAGE_API_JWT_SECRETS: TENANTS })).toEqual([]);
    expect(problemsOf({ ...SHARED, IMAGE_API_JWT_SECRET: SECRET })).toEqual([]);
    expect(problemsOf({ ...SHARED, IMAGE_API_JWT_SECRET: SECRET, IMAGE_API_JWT_SECRETS: TENANTS })).toEqual([]);
    const missing = problemsOf(SHARED);
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatch(/^IMAGE_API_JWT_SECRET: required with a shared database or storage \(or IMAGE_API_JWT_SECRETS/);
    // Set but invalid is reported as such, not as missing.
    expect(problemsOf({ ...SHARED, IMAGE_API_JWT_SECRETS: "tenant-a=short" })).toEqual([expect.stringMatching(/^IMAGE_API_JWT_SECRETS: must be/)]);
  });

  it("gives the default tenant IMAGE_API_JWT_SECRET, else the generated secret on the embedded defaults only", () => {
    const config = (env: Record<string, string>) => {
      const r = loadConfig(env);
      if (E.isLeft(r)) throw new Error(r.left.join("; "));
      return r.right;
    };
    const generated = { jwtSecret: "generated-secret-0123456789-abcdefghijk", urlSigningKey: "k" };
    const embedded = config({ IMAGE_API_JWT_SECRETS: TENANTS });
    expect(generatesSecrets(embedded)).toBe(true);
    expect(defaultJwtSecret(embedded, generated)).toBe(generated.jwtSecret);
    expect(defaultJwtSecret(config({ IMAGE_API_JWT_SECRET: SECRET, IMAGE_API_JWT_SECRETS: TENANTS }), generated)).toBe(SECRET);
    const shared = config({ ...SHARED, IMAGE_API_JWT_SECRETS: TENANTS });
    expect(generatesSecrets(shared)).toBe(false);
    expect(defaultJwtSecret(shared, generated)).toBeUndefined();
    expect(generatesSecrets(config({ IMAGE_API_STORAGE: "s3", IMAGE_API_S3_BUCKET: "images", IMAGE_API_JWT_SECRETS: TENANTS, IMAGE_API_URL_SIGNING_KEYS: URL_KEY }))).toBe(false);
  });
});

describe("tenants keyed by the token's issuer, through the app", () => {
  let t: TestApp;
  const album = freshAlbum("TEN");
  beforeAll(async () => {
    t = await startTestApp({ IMAGE_API_JWT_SECRETS: TENANTS });
  });
  afterAll(() => t.close());

  const claims = (iss?: string) => ({ ...seedClaims(album, ["image_list"], { now: t.clock.now() }), ...(iss === undefined ? {} : { iss }) });
  const list = (token: string) => t.http().get(`/api/v1/albums/${album}/images`).set("Authorization", t.auth(token));

  it("accepts a tenant's token signed with any of its secrets; the X-token keeps the iss and is signed with its first", async () => {
    for (const secret of [A_CURRENT, A_PREVIOUS]) {
      const r = await list(await mintToken({ secret, claims: claims("tenant-a") }));
      expect(r.status).toBe(200);
      const xToken = r.headers["x-token"] as string;
      expect(decodeJwt(xToken).payload["iss"]).toBe("tenant-a");
      await expect(jwtVerify(xToken, new TextEncoder().encode(A_CURRENT), { currentDate: t.clock.now() })).resolves.toBeDefined();
      await expect(jwtVerify(xToken, new TextEncoder().encode(A_PREVIOUS), { currentDate: t.clock.now() })).rejects.toThrow();
    }
  });

  it("keeps tokens without iss working, on the default tenant's secret", async () => {
    const r = await list(await t.token(["image_list"], album));
    expect(r.status).toBe(200);
    expect(decodeJwt(r.headers["x-token"] as string).payload).not.toHaveProperty("iss");
    await expect(jwtVerify(r.headers["x-token"] as string, new TextEncoder().encode(SECRET), { currentDate: t.clock.now() })).resolves.toBeDefined();
  });

  it("refuses an unknown issuer with 401", async () => {
    const r = await list(await mintToken({ secret: A_CURRENT, claims: claims("tenant-z") }));
    expect(r.status).toBe(401);
    expect(r.body.error).toEqual({ code: "unauthenticated", message: "unknown token issuer" });
    expect(r.headers["x-token"]).toBeUndefined();
  });

  it.for([
    ["tenant-a signed with tenant-b's secret", "tenant-a", B_SECRET],
    ["tenant-b signed with the default secret", "tenant-b", SECRET],
    ["no iss signed with tenant-a's secret", undefined, A_CURRENT],
  ] as const)("refuses a token signed with another tenant's secret (%s) with 401", async ([, iss, secret]) => {
    const r = await list(await mintToken({ secret, claims: claims(iss) }));
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe("unauthenticated");
  });
});

describe("tenants on the embedded defaults", () => {
  let t: TestApp;
  beforeAll(async () => {
    // No IMAGE_API_JWT_SECRET: the default tenant's secret is generated into the data dir, as without tenants.
    t = await startTestApp({ IMAGE_API_JWT_SECRET: "", IMAGE_API_JWT_SECRETS: TENANTS });
  });
  afterAll(() => t.close());

  it("verifies tokens without iss with the generated secret, and tenants' with theirs", async () => {
    const { jwtSecret } = JSON.parse(await readFile(join(t.dataDir, "secrets.json"), "utf8")) as { jwtSecret: string };
    const album = freshAlbum("EMB");
    const claims = seedClaims(album, ["image_list"], { now: t.clock.now() });
    const list = async (secret: string, c: Record<string, unknown>) =>
      (await t.http().get(`/api/v1/albums/${album}/images`).set("Authorization", t.auth(await mintToken({ secret, claims: c })))).status;
    expect(await list(jwtSecret, claims)).toBe(200);
    expect(await list(B_SECRET, { ...claims, iss: "tenant-b" })).toBe(200);
    expect(await list(SECRET, claims)).toBe(401);
  });
});

describe("image-api token --iss", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "image-api-cli-tenants-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const cli = (args: string[], env: Record<string, string>): Promise<Exit> =>
    runProcess(TSX, ["--conditions=@image-api/source", join(ROOT, "packages/http/src/cli.ts"), ...args], {
      env: { PATH: process.env["PATH"] ?? "", IMAGE_API_DATA_DIR: dataDir, ...env },
    });
  const TOKEN_ARGS = ["token", "--user", "u-1", "--album", "A1", "--abilities", "image_list"];
  const expectNoSecret = (out: Exit) => {
    for (const s of ALL_SECRETS) expect(`${out.stdout}${out.stderr}`).not.toContain(s);
  };

  it("signs a tenant's token with its first secret, with the iss claim", async () => {
    const out = await cli([...TOKEN_ARGS, "--iss", "tenant-a"], { ...SHARED, IMAGE_API_JWT_SECRETS: TENANTS });
    expect(out.code, out.stderr).toBe(0);
    const { payload } = await jwtVerify(out.stdout.trim(), new TextEncoder().encode(A_CURRENT), { algorithms: ["HS256"] });
    expect(payload).toMatchObject({ iss: "tenant-a", user_id: "u-1", abilities: { A1: { Access: { image_list: true } } } });
    await expect(jwtVerify(out.stdout.trim(), new TextEncoder().encode(A_PREVIOUS))).rejects.toThrow();
    // A tenant's token needs no default secret, so none was generated.
    await expect(access(join(dataDir, "secrets.json"))).rejects.toThrow();
  }, 60_000);

  it("refuses an unknown --iss, naming the tenants it knows", async () => {
    const out = await cli([...TOKEN_ARGS, "--iss", "tenant-z"], { IMAGE_API_JWT_SECRET: SECRET, IMAGE_API_JWT_SECRETS: TENANTS });
    expect(out.code).toBe(2);
    expect(out.stdout).toBe("");
    expect(out.stderr).toContain('unknown --iss "tenant-z": IMAGE_API_JWT_SECRETS has "tenant-a", "tenant-b"');
    expectNoSecret(out);
    const without = await cli([...TOKEN_ARGS, "--iss", "tenant-a"], { IMAGE_API_JWT_SECRET: SECRET });
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('unknown --iss "tenant-a": IMAGE_API_JWT_SECRETS is not set');
  }, 60_000);

  it("without --iss on a shared backend with tenants only, says that no secret signs tokens without iss", async () => {
    const out = await cli(TOKEN_ARGS, { ...SHARED, IMAGE_API_JWT_SECRETS: TENANTS });
    expect(out.code).toBe(2);
    expect(out.stdout).toBe("");
    expect(out.stderr).toContain("no secret signs tokens without iss");
    await expect(access(join(dataDir, "secrets.json"))).rejects.toThrow();
  }, 60_000);

  it("without --iss signs with IMAGE_API_JWT_SECRET, no iss claim", async () => {
    const out = await cli(TOKEN_ARGS, { IMAGE_API_JWT_SECRET: SECRET, IMAGE_API_JWT_SECRETS: TENANTS });
    expect(out.code, out.stderr).toBe(0);
    const { payload } = await jwtVerify(out.stdout.trim(), new TextEncoder().encode(SECRET));
    expect(payload).not.toHaveProperty("iss");
  }, 60_000);

  it("stops on a bad IMAGE_API_JWT_SECRETS without echoing it", async () => {
    const out = await cli([...TOKEN_ARGS, "--iss", "tenant-a"], { IMAGE_API_JWT_SECRETS: `tenant-a=${A_CURRENT},tenant-b=${A_CURRENT}` });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("IMAGE_API_JWT_SECRETS: must be comma-separated iss=secret pairs");
    expectNoSecret(out);
  }, 60_000);

  it("documents --iss in --help", async () => {
    const out = await cli(["--help"], {});
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/--iss <tenant>\s+iss claim: a token of that tenant, signed with its first secret/);
    expect(out.stdout).toContain("IMAGE_API_JWT_SECRETS");
    expect(out.stdout).toContain("Without --iss the token has no iss claim");
  }, 60_000);
});
