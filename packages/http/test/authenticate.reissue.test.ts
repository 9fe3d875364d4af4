import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { hmacTokenIssuer } from "@image-api/adapters";
import { TOKEN_TTL_SECONDS, type TokenIssuer } from "@image-api/core";
import { manualClock, mintToken, seedClaims } from "@image-api/testkit";
import { authenticate, reissueCache, type ReissueCache } from "../src/middleware/authenticate.js";

const SECRET = "reissue-secret-0123456789-abcdefghijk";
const START = new Date("2030-06-01T12:00:00.000Z");

/** An app behind `authenticate` alone, counting how often a token is signed. */
const setup = (cache?: ReissueCache) => {
  const clock = manualClock(START);
  const real = hmacTokenIssuer({ secret: SECRET, now: () => clock.now() });
  let signed = 0;
  const tokens: TokenIssuer = {
    verify: real.verify,
    issue: (claims) => {
      signed += 1;
      return real.issue(claims);
    },
  };
  const app = express();
  app.use(cache ? authenticate(tokens, clock, cache) : authenticate(tokens, clock));
  app.get("/", (_req, res) => void res.json({ ok: true }));
  const call = async (token: string, status = 200) => {
    const r = await request(app).get("/").set("Authorization", `Token token="${token}"`);
    expect(r.status).toBe(status);
    return r.headers["x-token"] as string | undefined;
  };
  return { clock, call, signed: () => signed };
};

const mint = (userId: string, now = START) => mintToken({ secret: SECRET, claims: seedClaims("A1", ["image_list"], { now, userId }) });
const payloadOf = (token: string | undefined) => JSON.parse(Buffer.from(token!.split(".")[1]!, "base64url").toString()) as { iat: number; exp: number; user_id: string };

describe("X-token re-issue", () => {
  it("reuses the re-issue of a token while a fresh one would expire less than 60 s later, then signs again", async () => {
    const { clock, call, signed } = setup();
    const token = await mint("u-1", new Date(START.getTime() - 3600_000));
    const first = await call(token);
    expect(signed()).toBe(1);
    expect(payloadOf(first).exp).toBe(START.getTime() / 1000 + TOKEN_TTL_SECONDS);

    clock.advance(59_000);
    expect(await call(token)).toBe(first);
    expect(signed()).toBe(1);

    clock.advance(1_000);
    const second = await call(token);
    expect(signed()).toBe(2);
    expect(second).not.toBe(first);
    expect(payloadOf(second).exp).toBe(payloadOf(first).exp + 60);
    // The window starts again from the new re-issue.
    clock.advance(30_000);
    expect(await call(token)).toBe(second);
    expect(signed()).toBe(2);
  });

  it("never hands one token's re-issue to another token", async () => {
    const { call, signed } = setup();
    const a = await mint("u-a");
    const b = await mint("u-b");
    const fromA = await call(a);
    const fromB = await call(b);
    expect(signed()).toBe(2);
    expect(payloadOf(fromA).user_id).toBe("u-a");
    expect(payloadOf(fromB).user_id).toBe("u-b");
    expect(await call(a)).toBe(fromA);
    expect(await call(b)).toBe(fromB);
    expect(signed()).toBe(2);
  });

  it("keeps a token whose own exp is later than a re-issue's for as long as it is valid", async () => {
    const { clock, call, signed } = setup();
    const long = await mintToken({ secret: SECRET, claims: { ...seedClaims("A1", ["image_list"], { now: START }), exp: START.getTime() / 1000 + 48 * 3600 } });
    const first = await call(long);
    clock.advance(3600_000);
    expect(await call(long)).toBe(first);
    expect(signed()).toBe(1);
  });

  it("still verifies every request: a token that expired is refused though its re-issue is remembered", async () => {
    const cache = reissueCache();
    const { clock, call } = setup(cache);
    // Expires 120 s after the start; with 30 s of tolerance, refused from 150 s on.
    const token = await mint("u-1", new Date(START.getTime() - TOKEN_TTL_SECONDS * 1000 + 120_000));
    const reissued = await call(token);
    expect(cache.reuse(token, payloadOf(reissued!).exp)).toBe(reissued);
    clock.advance(150_000);
    expect(await call(token, 401)).toBeUndefined();
  });

  it("forgets the least recently used token beyond its bound", async () => {
    const cache = reissueCache({ maxEntries: 2 });
    const { call, signed } = setup(cache);
    const [a, b, c] = await Promise.all([mint("u-a"), mint("u-b"), mint("u-c")]);
    await call(a);
    await call(b);
    await call(a); // a is now the most recently used
    await call(c); // b goes
    expect(cache.size()).toBe(2);
    expect(signed()).toBe(3);
    await call(a);
    expect(signed()).toBe(3);
    await call(b);
    expect(signed()).toBe(4);
  });

  it("remembers nothing when re-signing fails, and nothing for a refused token", async () => {
    const cache = reissueCache();
    const clock = manualClock(START);
    const real = hmacTokenIssuer({ secret: SECRET, now: () => clock.now() });
    const failing: TokenIssuer = { verify: real.verify, issue: () => () => Promise.resolve({ _tag: "Left", left: { _tag: "Unavailable", message: "down" } }) };
    const app = express().use(authenticate(failing, clock, cache));
    app.get("/", (_req, res) => void res.json({ ok: true }));
    const r = await request(app).get("/").set("Authorization", `Token token="${await mint("u-1")}"`);
    expect(r.status).toBe(200);
    expect(r.headers["x-token"]).toBeUndefined();
    const refused = await request(app).get("/").set("Authorization", `Token token="${await mintToken({ secret: "another-secret-0123456789-abcdefghij", claims: seedClaims("A1", ["image_list"], { now: START }) })}"`);
    expect(refused.status).toBe(401);
    expect(cache.size()).toBe(0);
  });
});
