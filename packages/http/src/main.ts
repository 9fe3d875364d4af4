import * as E from "fp-ts/lib/Either.js";
import { loadConfig } from "./config.js";
import { claimsFor, demoTokenRequest } from "./demo-token.js";
import { startServer } from "./server.js";

const started = performance.now();
const config = loadConfig(process.env);
if (E.isLeft(config)) {
  console.error(`Invalid configuration:\n  ${config.left.join("\n  ")}`);
  process.exit(1);
}

// A request must never take the process down; log and keep serving.
process.on("unhandledRejection", (e) => console.error("unhandled rejection", e));

const running = await startServer(config.right).catch((e: unknown) => {
  console.error(`Could not start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
const { composition } = running;
const ms = Math.round(performance.now() - started);
console.log(`Image API listening on ${config.right.host}:${running.server.address() && (running.server.address() as { port: number }).port} (${config.right.publicUrl}) in ${ms} ms`);

if (!config.right.jwtSecret) {
  const req = demoTokenRequest();
  const token = await composition.deps.tokens.issue(claimsFor(req, new Date()))();
  if (token._tag === "Right") {
    const base = config.right.publicUrl;
    console.log(`\nEmbedded defaults: data in ${config.right.dataDir}${composition.secretsCreated ? " (secrets generated)" : ""}.`);
    console.log(`Demo token (album "demo-album", every ability, 4 h):\n  ${token.right}\n`);
    console.log(`Try:\n  curl -s -H 'Authorization: Token token="${token.right}"' -F file=@picture.png ${base}/api/v1/albums/demo-album/images`);
    console.log(`  (more tokens: pnpm image-api token --user me --album demo-album --abilities image_upload,image_duplicate)\n`);
  }
}

const shutdown = (signal: string) => {
  console.log(`${signal}: shutting down`);
  running.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once("SIGINT", () => shutdown("SIGINT"));
process.once("SIGTERM", () => shutdown("SIGTERM"));
