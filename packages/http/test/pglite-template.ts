import { cp, mkdir, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPgliteClient, migrate, MIGRATIONS } from "@image-api/adapters";

/**
 * A migrated PGlite data dir, created once per machine and copied for each test app: initdb under
 * WebAssembly takes seconds, a copy takes milliseconds.
 */
const templateDir = join(tmpdir(), `image-api-pglite-template-v${MIGRATIONS.length}`);

const exists = (p: string) => stat(p).then(() => true, () => false);

const ensureTemplate = async (): Promise<string> => {
  if (await exists(templateDir)) return templateDir;
  const building = `${templateDir}.building-${process.pid}-${Date.now()}`;
  const client = await createPgliteClient({ dataDir: building });
  const migrated = await migrate(client)();
  await client.close();
  if (migrated._tag === "Left") throw new Error(migrated.left.message);
  // Another worker may have won the race; either copy is fine.
  await rename(building, templateDir).catch(() => rm(building, { recursive: true, force: true }));
  return templateDir;
};

/** Seeds `<dataDir>/db` with a ready database unless one is there already. */
export const seedDatabase = async (dataDir: string): Promise<void> => {
  const target = join(dataDir, "db");
  if (await exists(target)) return;
  await mkdir(dataDir, { recursive: true });
  await cp(await ensureTemplate(), target, { recursive: true });
};
