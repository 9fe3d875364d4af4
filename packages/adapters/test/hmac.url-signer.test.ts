import { createHmac } from "node:crypto";
import { forbidden, type UrlSigner } from "@image-api/core";
import { deliveryTarget, manualClock, urlSignerContract, type ManualClock } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test as base } from "vitest";
import { hmacUrlSigner, mediaPath } from "../src/hmac/index.js";

const BASE = "https://media.example.org";
const KEY = "current-key";
const TTL = 24 * 3600;

const test = base.extend<{ clock: ManualClock; signer: UrlSigner }>({
  // eslint-disable-next-line no-empty-pattern
  clock: async ({}, use) => use(manualClock(new Date("2026-03-01T10:15:30.000Z"))),
  // eslint-disable-next-line no-empty-pattern
  signer: async ({}, use) => use(hmacUrlSigner({ baseUrl: BASE, keys: [KEY], ttlSeconds: TTL })),
});

const tag = (r: E.Either<{ _tag: string }, unknown>) => (E.isLeft(r) ? r.left._tag : "Right");

describe("hmacUrlSigner", () => {
  urlSignerContract(test);

  test("builds the documented URL shape", async ({ signer, clock }) => {
    const target = deliveryTarget("mini", { filename: "Super Image" });
    const url = await signer.sign(target, clock.now())();
    const exp = Date.parse("2026-03-02T11:00:00Z") / 1000;
    const path = `/media/mini/c_crop,h_30,w_40,x_4,y_6/a_90/c_fit,h_1920,w_1920/c_fill,h_100,w_100/fl_attachment/${target.blobKey}/v1554745132/Super%20Image.png`;
    const sig = createHmac("sha256", KEY).update(`${path}?exp=${exp}`).digest("base64url");
    expect(url).toBe(`${BASE}${path}?exp=${exp}&sig=${sig}`);
    expect(mediaPath(target)).toBe(path);
  });

  test("rounds the expiry up to the hour so URLs stay stable for caches", async ({ signer, clock }) => {
    const target = deliveryTarget("full");
    const first = await signer.sign(target, clock.now())();
    clock.advance(20 * 60 * 1000);
    expect(await signer.sign(target, clock.now())()).toBe(first);
    clock.advance(30 * 60 * 1000);
    expect(await signer.sign(target, clock.now())()).not.toBe(first);
  });

  test("a remembered URL is the one signing afresh makes, whatever was remembered or evicted", async ({ clock }) => {
    const fresh = hmacUrlSigner({ baseUrl: BASE, keys: [KEY], ttlSeconds: TTL, rememberSigned: 0 });
    const small = hmacUrlSigner({ baseUrl: BASE, keys: [KEY], ttlSeconds: TTL, rememberSigned: 2 });
    const other = hmacUrlSigner({ baseUrl: BASE, keys: ["another-key"], ttlSeconds: TTL });
    const targets = [deliveryTarget("mini"), deliveryTarget("full"), deliveryTarget("mini", { filename: "other" }), deliveryTarget("large")];
    for (let round = 0; round < 3; round++) {
      for (const target of [...targets, ...targets.slice().reverse()]) {
        const expected = await fresh.sign(target, clock.now())();
        expect(await small.sign(target, clock.now())()).toBe(expected);
        expect(await other.sign(target, clock.now())()).not.toBe(expected);
      }
      // A new window: the remembered URLs of the last one are not handed out again.
      clock.advance(3600 * 1000);
    }
    expect(() => hmacUrlSigner({ baseUrl: BASE, keys: [KEY], ttlSeconds: TTL, rememberSigned: -1 })).toThrow(/rememberSigned/);
  });

  test("verifies until exp, refuses from exp on", async ({ signer, clock }) => {
    const url = await signer.sign(deliveryTarget("fill100"), clock.now())();
    const exp = Number(new URL(url).searchParams.get("exp"));
    expect(tag(signer.verify(url, new Date(exp * 1000 - 1)))).toBe("Right");
    expect(signer.verify(url, new Date(exp * 1000))).toEqual(E.left(forbidden("delivery URL expired")));
  });

  test("accepts the path and query alone, and a base URL with a path prefix", async ({ clock }) => {
    const signer = hmacUrlSigner({ baseUrl: "https://cdn.example.org/images/", keys: [KEY], ttlSeconds: TTL });
    const target = deliveryTarget("large");
    const url = await signer.sign(target, clock.now())();
    expect(url.startsWith("https://cdn.example.org/images/media/large/")).toBe(true);
    const pathAndQuery = url.slice("https://cdn.example.org".length);
    expect(signer.verify(url, clock.now())).toEqual(E.right(target));
    expect(signer.verify(pathAndQuery, clock.now())).toEqual(E.right(target));
    expect(signer.verify(pathAndQuery.slice("/images".length), clock.now())).toEqual(E.right(target));
  });

  test("rotation: the first key signs, every key verifies, a dropped key no longer does", async ({ clock }) => {
    const old = hmacUrlSigner({ baseUrl: BASE, keys: ["old-key"], ttlSeconds: TTL });
    const rotating = hmacUrlSigner({ baseUrl: BASE, keys: ["new-key", "old-key"], ttlSeconds: TTL });
    const rotated = hmacUrlSigner({ baseUrl: BASE, keys: ["new-key"], ttlSeconds: TTL });
    const target = deliveryTarget("full");
    const oldUrl = await old.sign(target, clock.now())();
    const newUrl = await rotating.sign(target, clock.now())();
    expect(rotating.verify(oldUrl, clock.now())).toEqual(E.right(target));
    expect(rotating.verify(newUrl, clock.now())).toEqual(E.right(target));
    expect(rotated.verify(newUrl, clock.now())).toEqual(E.right(target));
    expect(tag(rotated.verify(oldUrl, clock.now()))).toBe("Forbidden");
    expect(tag(old.verify(newUrl, clock.now()))).toBe("Forbidden");
  });

  test("refuses extra, repeated or reordered query parameters", async ({ signer, clock }) => {
    const url = await signer.sign(deliveryTarget("full"), clock.now())();
    const [front, query] = url.split("?") as [string, string];
    const [exp, sig] = query.split("&") as [string, string];
    for (const changed of [
      `${url}&x=1`,
      `${front}?x=1&${exp}&${sig}`,
      `${front}?${sig}&${exp}`,
      `${front}?${exp}&${exp}&${sig}`,
      `${front}?${exp}&${sig}&${sig}`,
      `${front}?${exp}`,
      front,
      `${url}&`,
    ]) {
      expect(tag(signer.verify(changed, clock.now())), changed).toBe("Forbidden");
    }
  });

  test("refuses a later expiry grafted onto a valid signature", async ({ signer, clock }) => {
    const url = await signer.sign(deliveryTarget("full"), clock.now())();
    const exp = Number(new URL(url).searchParams.get("exp"));
    expect(tag(signer.verify(url.replace(`exp=${exp}`, `exp=${exp + 3600}`), clock.now()))).toBe("Forbidden");
  });

  test("refuses non-canonical spellings of a signed path", async ({ signer, clock }) => {
    const target = deliveryTarget("full", { filename: "a b" });
    const url = await signer.sign(target, clock.now())();
    for (const changed of [
      url.replace("a%20b", "a b"),
      url.replace("a%20b", "a+b"),
      url.replace("a%20b", "%61%20b"),
      url.replace("/v1554745132/", "/v01554745132/"),
      url.replace("/media/full/", "/media//full/"),
      url.replace("/media/full/", "/media/full/./"),
      url.replace("/media/", "/MEDIA/"),
      url.replace(/sig=([^&]+)$/, (_, s: string) => `sig=${s}=`),
    ]) {
      expect(changed).not.toBe(url);
      expect(tag(signer.verify(changed, clock.now())), changed).toBe("Forbidden");
    }
  });

  test("refuses a signature that only differs in base64url's spare bits", async ({ signer, clock }) => {
    const url = await signer.sign(deliveryTarget("full"), clock.now())();
    const sig = new URL(url).searchParams.get("sig")!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(sig.slice(-1));
    // 43 characters carry 258 bits for a 256-bit MAC: the last character's low two bits are padding.
    const twin = sig.slice(0, -1) + alphabet[last ^ 1]!;
    expect(Buffer.from(twin, "base64url").equals(Buffer.from(sig, "base64url"))).toBe(true);
    expect(tag(signer.verify(url.replace(sig, twin), clock.now()))).toBe("Forbidden");
  });

  test("refuses configurations it cannot sign with", () => {
    expect(() => hmacUrlSigner({ baseUrl: BASE, keys: [], ttlSeconds: TTL })).toThrow();
    expect(() => hmacUrlSigner({ baseUrl: BASE, keys: [""], ttlSeconds: TTL })).toThrow();
    expect(() => hmacUrlSigner({ baseUrl: BASE, keys: [KEY], ttlSeconds: 0 })).toThrow();
  });
});
