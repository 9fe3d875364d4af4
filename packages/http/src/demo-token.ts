import { ABILITIES, TOKEN_TTL_SECONDS, type Ability, type Claims } from "@image-api/core";
import { randomUUID } from "node:crypto";

export interface TokenRequest {
  readonly userId: string;
  readonly albums: readonly string[];
  readonly abilities: readonly Ability[];
  readonly ttlSeconds: number;
}

/** Claims in the family's shape: `{ exp, iat, user_id, abilities: { album: { Access: { ability: true } } } }`. */
export const claimsFor = (req: TokenRequest, now: Date): Claims => {
  const iat = Math.floor(now.getTime() / 1000);
  const access = Object.fromEntries(req.abilities.map((a) => [a, true]));
  return {
    exp: iat + req.ttlSeconds,
    iat,
    user_id: req.userId,
    abilities: Object.fromEntries(req.albums.map((album) => [album, { Access: access }])),
  };
};

/** The command the start banner and the README's walk-through show for minting more demo tokens. */
export const DEMO_TOKEN_COMMAND = `npx -y pnpm@10.34.9 -s image-api token --user me --album demo-album --abilities ${ABILITIES.join(",")}`;

export const demoTokenRequest = (): TokenRequest => ({
  userId: randomUUID(),
  albums: ["demo-album"],
  abilities: [...ABILITIES],
  ttlSeconds: TOKEN_TTL_SECONDS,
});

/** `4h`, `30m`, `3600s`, `2d` or plain seconds. */
export const parseDuration = (s: string): number | null => {
  const m = /^(\d+)([smhd]?)$/.exec(s.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "" | "s" | "m" | "h" | "d"];
  return n > 0 ? n * unit : null;
};
