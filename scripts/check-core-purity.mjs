// The core must stay free of I/O and platform APIs so any host can embed it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../packages/core/src/", import.meta.url).pathname;
const allowed = new Set(["fp-ts", "io-ts"]);
const banned = [/\bprocess\./, /\bBuffer\b/, /\brequire\(/, /\bfetch\(/, /@injectable|@inject\b/, /\bsetTimeout\(/];
const problems = [];
const walk = (dir) =>
  readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
for (const file of walk(root).filter((f) => f.endsWith(".ts"))) {
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/from\s+"([^"]+)"/g)) {
    const spec = m[1];
    if (spec.startsWith(".")) continue;
    if (!allowed.has(spec.split("/")[0])) problems.push(`${file}: imports ${spec}`);
  }
  for (const re of banned) if (re.test(text)) problems.push(`${file}: uses ${re}`);
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("core purity: ok");
