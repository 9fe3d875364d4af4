import { parseArgs } from "node:util";
import * as E from "fp-ts/lib/Either.js";
import { ABILITIES, isAbility, TOKEN_TTL_SECONDS, type Ability } from "@image-api/core";
import { hmacTokenIssuer } from "@image-api/adapters/jwt";
import { loadConfig, type Config } from "./config.js";
import { claimsFor, parseDuration } from "./demo-token.js";
import { defaultJwtSecret, generatesSecrets, loadOrCreateSecrets } from "./secrets.js";

const USAGE = `usage: image-api token --user <id> --album <id> [--album <id> …] --abilities image_upload,image_duplicate [--ttl 4h] [--iss <tenant>]`;

const HELP = `${USAGE}

Commands:
  token     Print a signed token (HS256 JWT) on stdout, and nothing else, so that
            TOKEN=$(npx -y pnpm@10.34.9 -s image-api token …) captures it.

Options of token:
  --user <id>          user_id claim
  --album <id>         album the abilities apply to (repeat for several)
  --abilities <list>   comma-separated, any of: ${ABILITIES.join(", ")}
  --ttl <duration>     lifetime: 30m, 4h, 2d or seconds (default ${TOKEN_TTL_SECONDS / 3600}h)
  --iss <tenant>       iss claim: a token of that tenant, signed with its first secret
                       in IMAGE_API_JWT_SECRETS (iss=secret pairs, comma-separated)
  -h, --help           this text

Without --iss the token has no iss claim and belongs to the default tenant: it is signed
with IMAGE_API_JWT_SECRET, or on the embedded defaults with the secret generated into
IMAGE_API_DATA_DIR (default ./data) on first start.`;

const fail = (message: string): never => {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
};

const main = async (argv: string[]): Promise<void> => {
  const args = argv.filter((a) => a !== "--");
  if (args.length === 0 || args.includes("--help") || args.includes("-h") || args[0] === "help") {
    console.log(HELP);
    return;
  }
  const [command, ...rest] = args;
  if (command !== "token") fail(command ? `unknown command: ${command}` : "missing command");
  const { values } = parseArgs({
    args: rest,
    options: {
      user: { type: "string" },
      album: { type: "string", multiple: true },
      abilities: { type: "string" },
      ttl: { type: "string" },
      iss: { type: "string" },
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
  const cfg = (config as E.Right<Config>).right;
  const iss = values.iss;
  const tenants = [...(cfg.jwtSecrets?.keys() ?? [])];
  if (iss !== undefined && !cfg.jwtSecrets?.has(iss))
    fail(`unknown --iss ${JSON.stringify(iss)}: ${tenants.length > 0 ? `IMAGE_API_JWT_SECRETS has ${tenants.map((t) => JSON.stringify(t)).join(", ")}` : "IMAGE_API_JWT_SECRETS is not set"}`);
  // A tenant's token needs no default secret, so none is generated for it.
  const embedded = iss === undefined && !cfg.jwtSecret && generatesSecrets(cfg) ? (await loadOrCreateSecrets(cfg.dataDir)).secrets : null;
  const secret = iss === undefined ? defaultJwtSecret(cfg, embedded) : undefined;
  if (iss === undefined && secret === undefined)
    fail("no secret signs tokens without iss: set IMAGE_API_JWT_SECRET, or pass --iss with a tenant of IMAGE_API_JWT_SECRETS");
  const claims = { ...claimsFor({ userId, albums, abilities: names as Ability[], ttlSeconds }, new Date()), ...(iss === undefined ? {} : { iss }) };
  const token = await hmacTokenIssuer({ secret, issuers: cfg.jwtSecrets }).issue(claims)();
  if (token._tag === "Left") fail(token.left.message);
  else console.log(token.right);
};

main(process.argv.slice(2)).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
