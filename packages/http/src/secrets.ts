import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "./config.js";

export interface EmbeddedSecrets {
  readonly jwtSecret: string;
  readonly urlSigningKey: string;
}

const isSecrets = (u: unknown): u is EmbeddedSecrets =>
  typeof u === "object" && u !== null && typeof (u as EmbeddedSecrets).jwtSecret === "string" && typeof (u as EmbeddedSecrets).urlSigningKey === "string";

/**
 * The embedded default's secrets: generated on first start and kept in the data dir, so tokens and
 * URLs stay valid across restarts. Written atomically with owner-only permissions.
 */
export const loadOrCreateSecrets = async (dataDir: string): Promise<{ secrets: EmbeddedSecrets; created: boolean }> => {
  const path = join(dataDir, "secrets.json");
  try {
    const parsed: unknown = JSON.parse(await readFile(path, "utf8"));
    if (isSecrets(parsed)) return { secrets: parsed, created: false };
    throw new Error(`${path} is not a secrets file; move it away to generate new secrets`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  await mkdir(dataDir, { recursive: true });
  const secrets: EmbeddedSecrets = {
    jwtSecret: randomBytes(32).toString("base64url"),
    urlSigningKey: randomBytes(32).toString("base64url"),
  };
  const tmp = `${path}.tmp-${process.pid}`;
  const file = await open(tmp, "w", 0o600);
  await file.writeFile(JSON.stringify(secrets, null, 2));
  await file.sync();
  await file.close();
  await rename(tmp, path);
  return { secrets, created: true };
};

/**
 * Whether the secrets a configuration leaves out may be generated into the data dir: only on the
 * embedded defaults (embedded database, local files). Instances sharing a database or storage must
 * agree on their secrets, so they never generate one.
 */
export const generatesSecrets = (config: Pick<Config, "databaseUrl" | "storage">): boolean => config.databaseUrl === undefined && config.storage.kind === "filesystem";

/**
 * The default tenant's secret, which signs and verifies tokens without `iss`: IMAGE_API_JWT_SECRET, or
 * on the embedded defaults the generated one. Undefined with a shared backend configured with
 * IMAGE_API_JWT_SECRETS only: there, every token names its issuer.
 */
export const defaultJwtSecret = (config: Pick<Config, "jwtSecret" | "databaseUrl" | "storage">, embedded: EmbeddedSecrets | null): string | undefined =>
  config.jwtSecret ?? (generatesSecrets(config) ? embedded?.jwtSecret : undefined);
