import { randomUUID } from "node:crypto";
import { renditionOf, VARIANTS, type BlobKey, type DeliveryTarget, type UrlSigner, type Variant } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, type TestAPI } from "vitest";
import type { manualClock } from "../fixtures/clock.fixture.js";

export type ManualClock = ReturnType<typeof manualClock>;

export interface UrlSignerCapabilities {
  /** Whether signed URLs stop verifying after a while. */
  readonly expires: boolean;
  /**
   * Whether a URL carries the download name. One that cannot (Cloudinary names attachments after the
   * public id) is checked on targets named after their blob key, and must ignore the name it is given.
   */
  readonly carriesFilename: boolean;
}

export const deliveryTarget = (variant: Variant, overrides: Partial<DeliveryTarget> = {}): DeliveryTarget => ({
  blobKey: randomUUID() as BlobKey,
  format: "png",
  version: 1554745132,
  rendition: renditionOf({ crop: { x: 4, y: 6, w: 40, h: 30 }, rotation: 90 }, variant),
  filename: "Super Image",
  ...overrides,
});

const leftTag = (r: E.Either<{ _tag: string }, unknown>): string => (E.isLeft(r) ? r.left._tag : "Right");

/** One character changed to another of the same kind, so the text still looks well formed. */
const mutate = (s: string): string => {
  const i = [...s].findIndex((c) => /[A-Za-z0-9]/.test(c));
  if (i < 0) return `${s}x`;
  const c = s[i]!;
  const next = /[0-9]/.test(c) ? String((Number(c) + 1) % 10) : c === "z" ? "a" : c === "Z" ? "A" : String.fromCharCode(c.charCodeAt(0) + 1);
  return s.slice(0, i) + next + s.slice(i + 1);
};

/** Every URL obtained by changing one path segment or one query value of `url`. */
export const tamperings = (url: string): { readonly what: string; readonly url: string }[] => {
  const u = new URL(url);
  const [pathPart, query = ""] = url.slice(u.origin.length).split("?", 2) as [string, string | undefined];
  const segments = pathPart.split("/");
  const params = query === "" ? [] : query.split("&");
  const rebuild = (segs: readonly string[], ps: readonly string[]) => `${u.origin}${segs.join("/")}${ps.length ? `?${ps.join("&")}` : ""}`;
  const out: { what: string; url: string }[] = [];
  segments.forEach((seg, i) => {
    if (seg === "") return;
    out.push({ what: `path segment ${i} (${seg})`, url: rebuild(segments.map((s, j) => (j === i ? mutate(s) : s)), params) });
  });
  params.forEach((p, i) => {
    const eq = p.indexOf("=");
    const [name, value] = eq < 0 ? [p, ""] : [p.slice(0, eq), p.slice(eq + 1)];
    // Change the end of the value too: for signatures the first character is no more special than the last.
    for (const changed of [mutate(value), value.slice(0, -1) + mutate(value.slice(-1))]) {
      out.push({ what: `query ${name}`, url: rebuild(segments, params.map((q, j) => (j === i ? `${name}=${changed}` : q))) });
    }
  });
  return out.filter((t) => t.url !== url);
};

/** What every UrlSigner must do; `clock` is the clock the signer's URLs are checked against. */
export const urlSignerContract = (
  test: TestAPI<{ signer: UrlSigner; clock: ManualClock }>,
  capabilities: Partial<UrlSignerCapabilities> = {},
): void => {
  const { expires = true, carriesFilename = true } = capabilities;
  const target = (variant: Variant, overrides: Partial<DeliveryTarget> = {}): DeliveryTarget => {
    const t = deliveryTarget(variant, overrides);
    return carriesFilename ? t : { ...t, filename: t.blobKey };
  };

  describe("UrlSigner contract", () => {
    test.for([...VARIANTS])("sign then verify recovers the exact target (%s)", async (variant, { signer, clock }) => {
      const t = target(variant);
      const url = await signer.sign(t, clock.now())();
      expect(signer.verify(url, clock.now())).toEqual(E.right(t));
    });

    if (carriesFilename) {
      test("a download name with spaces, accents and URL metacharacters survives", async ({ signer, clock }) => {
        const named = target("full", { filename: "été à Paris #1 ?&=/%+ (copy)", format: "jpeg" });
        const url = await signer.sign(named, clock.now())();
        expect(signer.verify(url, clock.now())).toEqual(E.right(named));
      });
    }

    test("different targets get different URLs", async ({ signer, clock }) => {
      const mini = target("mini");
      const sign = (t: DeliveryTarget) => signer.sign(t, clock.now())();
      const urls = await Promise.all(
        [mini, { ...mini, version: mini.version + 1 }, { ...mini, format: "jpeg" }, target("large", { blobKey: mini.blobKey })].map(sign),
      );
      const renamed = await sign({ ...mini, filename: "other" });
      if (carriesFilename) {
        expect(new Set([...urls, renamed]).size).toBe(5);
      } else {
        expect(new Set(urls).size).toBe(4);
        // The name is not in the URL, so it cannot be what tells two URLs apart.
        expect(renamed).toBe(urls[0]);
      }
    });

    test("changing any part of the URL is Forbidden", async ({ signer, clock }) => {
      const url = await signer.sign(target("large"), clock.now())();
      const changed = tamperings(url);
      expect(changed.length).toBeGreaterThan(4);
      for (const t of changed) expect(leftTag(signer.verify(t.url, clock.now())), t.what).toBe("Forbidden");
    });

    test("a truncated URL is Forbidden", async ({ signer, clock }) => {
      const url = await signer.sign(target("full"), clock.now())();
      for (const cut of [1, 5, url.indexOf("?") < 0 ? 10 : url.length - url.indexOf("?")]) {
        expect(leftTag(signer.verify(url.slice(0, -cut), clock.now()))).toBe("Forbidden");
      }
    });

    test.for([
      "",
      "garbage",
      "/",
      "/media/",
      "https://",
      "http://[::1",
      "https://example.org/media/full/raw/abc/v1/a.png",
      "https://example.org/media/full/raw/abc/v1/a.png?exp=9999999999&sig=AAAA",
      "%E0%A4%A",
      "?exp=1&sig=x",
    ])("garbage is Forbidden (%j)", (garbage, { signer, clock }) => {
      expect(leftTag(signer.verify(garbage, clock.now()))).toBe("Forbidden");
    });

    if (expires) {
      test("a URL verifies until it expires, then is Forbidden", async ({ signer, clock }) => {
        const t = target("fit2000");
        const url = await signer.sign(t, clock.now())();
        clock.advance(60_000);
        expect(signer.verify(url, clock.now())).toEqual(E.right(t));
        clock.advance(400 * 24 * 3600 * 1000);
        expect(leftTag(signer.verify(url, clock.now()))).toBe("Forbidden");
      });
    }
  });
};
