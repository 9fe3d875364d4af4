import { parseArgs } from "node:util";
import * as E from "fp-ts/lib/Either.js";
import { isAbility, TOKEN_TTL_SECONDS, type Ability } from "@image-api/core";
import { joseTokenIssuer } from "@image-api/adapters";
import { loadConfig } from "./config.js";
import { claimsFor, parseDuration } from "./demo-token.js";
import { loadOrCreateSecrets } from "./secrets.js";

const USAGE = `usage: image-api token --user <id> --album <id> [--album <id> …] --abilities image_upload,image_duplicate [--ttl 4h]`;

const fail = (message: string): never => {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
};

const main = async (argv: string[]): Promise<void> => {
  const [command, ...rest] = argv.filter((a) => a !== "--");
  if (command !== "token") fail(command ? `unknown command: ${command}` : "missing command");
  const { values } = parseArgs({
    args: rest,
    options: {
      user: { type: "string" },
      album: { type: "string", multiple: true },
      abilities: { type: "string" },
      ttl: { type: "string" },
    },
    strict: true,
  });
  const userId = values.user ?? fail("--user is required");
  const albums = values.album ?? fail("--album is required");
  const names = (values.abilities ?? fail("--abilities is required")).split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !isAbility(n));
  if (unknown.length > 0 || names.length === 0) fail(`unknown abilities: ${unknown.join(", ") || "(none given)"}`);
  const ttlSeconds = values.ttl ? (parseDuration(values.ttl) ?? fail(`bad --ttl: ${values.ttl}`)) : TOKEN_TTL_SECONDS;

  const config = loadConfig(process.env);
  if (E.isLeft(config)) fail(`Invalid configuration:\n  ${config.left.join("\n  ")}`);
  const cfg = (config as E.Right<import("./config.js").Config>).right;
  const secret = cfg.jwtSecret ?? (await loadOrCreateSecrets(cfg.dataDir)).secrets.jwtSecret;
  const claims = claimsFor({ userId, albums, abilities: names as Ability[], ttlSeconds }, new Date());
  const token = await joseTokenIssuer({ secret }).issue(claims)();
  if (token._tag === "Left") fail(token.left.message);
  else console.log(token.right);
};

main(process.argv.slice(2)).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
