import { beforeAll, describe, expect, it } from "vitest";
import { encodeListingCursor, type ImageId } from "@image-api/core";
import { asXMessage, DATABASE_BACKENDS, freshAlbum, uploaded, useBackend, type TestApp } from "./harness.js";

interface Listed {
  readonly id: string;
  readonly created_at: string;
}

/** Newest first, ties on created_at by id descending: the listing's order, worked out from the uploads. */
const newestFirst = (images: readonly Listed[]): string[] =>
  [...images]
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || (a.id < b.id ? 1 : -1))
    .map((i) => i.id);

/** `rel` → path-and-query of each link of a Link header. */
const linksOf = (header: string | undefined): Record<string, string> =>
  Object.fromEntries([...(header ?? "").matchAll(/<([^>]+)>; rel="(\w+)"/g)].map((m) => [m[2]!, m[1]!]));

const base64url = (text: string) => Buffer.from(text, "latin1").toString("base64url");
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

describe.each(DATABASE_BACKENDS)("album listing by cursor on %s", (_name, start) => {
  let t: TestApp;
  const skipIfNone = useBackend(start, (app) => (t = app));
  const album = freshAlbum("CURA");
  const other = freshAlbum("CURB");
  const mine: Listed[] = [];
  const theirs: Listed[] = [];

  const list = async (path: string, tokenAlbum: string) =>
    t.http().get(path).set("Authorization", t.auth(await t.token(["image_list"], tokenAlbum)));
  const idsOf = (r: { body: Listed[] }) => r.body.map((i) => i.id);
  const path = (a: string, query: string) => `/api/v1/albums/${a}/images?${query}`;

  beforeAll(async () => {
    if (!t) return;
    // 25 images, three to each instant (the clock only moves every third upload), so pages meet inside
    // runs of equal created_at; the other album gets one image at every instant.
    for (let i = 0; i < 25; i++) {
      mine.push((await uploaded(t, { album })) as Listed);
      if (i % 3 === 2) {
        theirs.push((await uploaded(t, { album: other })) as Listed);
        t.clock.advance(1_000);
      }
    }
  });

  /** Follows `rel` links from `first` until there is none; every page is checked against the same page by number. */
  const walk = async (first: string, rel: "next" | "prev", tokenAlbum = album) => {
    const pages: string[][] = [];
    const numbers: number[] = [];
    let url: string | undefined = first;
    while (url !== undefined && pages.length < 20) {
      const r = await list(url, tokenAlbum);
      expect(r.status, r.text).toBe(200);
      expect(r.headers["x-total-count"]).toBe("25");
      const query = new URL(url, "http://x").searchParams;
      const page = Number(query.get("page") ?? "1");
      const byNumber = await list(path(album, `page=${page}&per_page=${query.get("per_page")}`), tokenAlbum);
      expect(idsOf(r), `page ${page} by cursor and by number`).toEqual(idsOf(byNumber));
      pages.push(idsOf(r));
      numbers.push(page);
      url = linksOf(r.headers.link)[rel];
      if (url !== undefined) expect(url).toMatch(/[?&]cursor=[A-Za-z0-9_-]+(&|$)/);
    }
    return { pages, numbers };
  };

  it("following next links from page 1 visits every image once, in order, as the numbered pages do", async (ctx) => {
    skipIfNone(ctx);
    const { pages, numbers } = await walk(path(album, "per_page=4"), "next");
    expect(numbers).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 4, 4, 4, 1]);
    expect(pages.flat()).toEqual(newestFirst(mine));
    expect(new Set(pages.flat()).size).toBe(25);
  });

  it("following prev links back from the last page visits the same pages", async (ctx) => {
    skipIfNone(ctx);
    const forward = await walk(path(album, "per_page=4"), "next");
    const last = forward.numbers.length;
    // The last page as the walk reached it, by cursor.
    let url = path(album, "per_page=4");
    for (let n = 1; n < last; n++) url = linksOf((await list(url, album)).headers.link)["next"]!;
    const back = await walk(url, "prev");
    expect(back.numbers).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(back.pages).toEqual([...forward.pages].reverse());
  });

  it("keeps its place when images are added during the walk", async (ctx) => {
    skipIfNone(ctx);
    const growing = freshAlbum("CURG");
    const before: Listed[] = [];
    for (let i = 0; i < 10; i++) {
      before.push((await uploaded(t, { album: growing })) as Listed);
      t.clock.advance(1_000);
    }
    const seen: string[] = [];
    let r = await list(path(growing, "per_page=3"), growing);
    seen.push(...idsOf(r));
    for (let n = 0; n < 3; n++) await uploaded(t, { album: growing });
    for (let url = linksOf(r.headers.link)["next"]; url !== undefined; url = linksOf(r.headers.link)["next"]) {
      r = await list(url, growing);
      expect(r.headers["x-total-count"]).toBe("13");
      seen.push(...idsOf(r));
    }
    expect(seen).toEqual(newestFirst(before));
    // By number, page 2 would now repeat the end of page 1.
    expect(idsOf(await list(path(growing, "page=2&per_page=3"), growing))).toEqual(seen.slice(0, 3));
  });

  it("422 for a cursor it did not write, naming the cursor", async (ctx) => {
    skipIfNone(ctx);
    const next = linksOf((await list(path(album, "per_page=4"), album)).headers.link)["next"]!;
    const cursor = new URL(next, "http://x").searchParams.get("cursor")!;
    expect(cursor.charAt(0)).toBe("Y");
    // The last group of four is short, so its last character has bits that must be zero.
    expect(cursor.length % 4).not.toBe(0);
    const id = mine[0]!.id;
    const refused = [
      "",
      "not a cursor!",
      "abc",
      base64url("hello"),
      base64url(`a.1700000000000.${id.slice(0, 35)}`),
      base64url(`x.1700000000000.${id}`),
      base64url(`a.01700000000000.${id}`),
      base64url(`a.1700000000000.${id}.`),
      base64url(`a.99999999999999999.${id}`),
      base64url(`a.999999999999999.${id}`), // past the year 9999
      base64url(`a.1.5e3.${id}`),
      `Z${cursor.slice(1)}`, // altered: no longer after or before
      cursor.slice(0, -2), // cut short
      `${cursor}AA`, // trailing bytes
      `${cursor}=`, // padded
      `${cursor.slice(0, -1)}${ALPHABET.charAt(ALPHABET.indexOf(cursor.at(-1)!) | 1)}`, // stray bits in the last character
    ];
    for (const value of refused) {
      const r = await list(path(album, `per_page=4&cursor=${encodeURIComponent(value)}`), album);
      expect(r.status, value).toBe(422);
      expect(r.body.error.code).toBe("invalid_parameters");
      expect(r.body.error.details, value).toEqual([{ field: "cursor", message: expect.stringContaining("cursor") }]);
      expect(r.headers["x-message"]).toBe(asXMessage(r.body.error.message));
      expect(r.headers["x-message"]).toMatch(/^cursor: /);
    }
    for (const query of [`cursor[]=${cursor}`, `cursor=${cursor}&cursor=${cursor}`, `cursor[x]=${cursor}`]) {
      const r = await list(path(album, query), album);
      expect(r.status, query).toBe(422);
      expect(r.body.error.details, query).toEqual([{ field: "cursor", message: "must be sent once, as a string" }]);
    }
    // The cursor itself is fine: the same request without the damage pages.
    expect((await list(path(album, `per_page=4&cursor=${cursor}`), album)).status).toBe(200);
  });

  it("a cursor of album A used on album B pages B from the same spot, and never shows A's images", async (ctx) => {
    skipIfNone(ctx);
    // Just past A's 8th image.
    let url = path(album, "per_page=4");
    url = linksOf((await list(url, album)).headers.link)["next"]!;
    const second = await list(url, album);
    const cursor = new URL(linksOf(second.headers.link)["next"]!, "http://x").searchParams.get("cursor")!;
    const spot = second.body.at(-1)!;

    const r = await list(path(other, `per_page=100&cursor=${cursor}`), other);
    expect(r.status).toBe(200);
    expect(r.headers["x-total-count"]).toBe(String(theirs.length));
    const older = theirs.filter((i) => Date.parse(i.created_at) < Date.parse(spot.created_at) || (i.created_at === spot.created_at && i.id < spot.id));
    expect(older.length).toBeGreaterThan(0);
    expect(older.length).toBeLessThan(theirs.length);
    expect(idsOf(r)).toEqual(newestFirst(older));
    const mineIds = new Set(mine.map((i) => i.id));
    expect(idsOf(r).some((id) => mineIds.has(id))).toBe(false);
    // With a token for A only, B stays an empty album, cursor or not.
    const outside = await list(path(other, `cursor=${cursor}`), album);
    expect(outside.status).toBe(200);
    expect(outside.body).toEqual([]);
    expect(outside.headers["x-total-count"]).toBe("0");
  });

  it("a well-formed cursor anyone could write only moves within the album", async (ctx) => {
    skipIfNone(ctx);
    const future = encodeListingCursor({ direction: "after", position: { createdAt: new Date("2999-01-01T00:00:00.000Z"), id: "00000000-0000-4000-8000-000000000000" as ImageId } });
    const r = await list(path(album, `page=1&per_page=4&cursor=${future}`), album);
    expect(r.status).toBe(200);
    expect(idsOf(r)).toEqual(newestFirst(mine).slice(0, 4));
    const dawn = encodeListingCursor({ direction: "after", position: { createdAt: new Date(0), id: "00000000-0000-4000-8000-000000000000" as ImageId } });
    const past = await list(path(album, `page=3&per_page=4&cursor=${dawn}`), album);
    expect(past.status).toBe(200);
    expect(past.body).toEqual([]);
    expect(past.headers["x-total-count"]).toBe("25");
    // Past the end there is no next page, and no cursor for a prev one.
    expect(Object.keys(linksOf(past.headers.link))).toEqual(["first", "last"]);
  });
});
