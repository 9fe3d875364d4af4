import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { decodeListingCursor, encodeListingCursor, listAlbumImages, type Ability, type AlbumImagesPage, type ImageId, type ListingCursor } from "../src/index.js";
import { ALBUM, caller, seeded, world } from "./commands.fixture.js";

const ID = "0190c3c4-5b6a-7d8e-9f01-23456789abcd" as ImageId;
const wire = (text: string) => Buffer.from(text, "latin1").toString("base64url");
const refusal = (value: unknown) => {
  const decoded = decodeListingCursor(value);
  return E.isLeft(decoded) ? decoded.left.issues : [];
};

describe("listing cursor", () => {
  it("is the unpadded base64url of the direction, the created_at in ms and the id, and decodes back", () => {
    const cursor: ListingCursor = { direction: "after", position: { createdAt: new Date("2026-03-01T10:00:00.123Z"), id: ID } };
    const text = encodeListingCursor(cursor);
    expect(text).toBe(wire(`a.${Date.parse("2026-03-01T10:00:00.123Z")}.${ID}`));
    expect(decodeListingCursor(text)).toEqual(E.right(cursor));
    const back: ListingCursor = { direction: "before", position: { createdAt: new Date(0), id: ID } };
    expect(encodeListingCursor(back)).toBe(wire(`b.0.${ID}`));
    expect(decodeListingCursor(encodeListingCursor(back))).toEqual(E.right(back));
    const ancient: ListingCursor = { direction: "after", position: { createdAt: new Date("0001-01-01T00:00:00.000Z"), id: ID } };
    expect(decodeListingCursor(encodeListingCursor(ancient))).toEqual(E.right(ancient));
    // Every length of the last base64 group round-trips.
    for (const ms of [1, 12, 123, 1234]) {
      const c: ListingCursor = { direction: "after", position: { createdAt: new Date(ms), id: ID } };
      expect(decodeListingCursor(encodeListingCursor(c))).toEqual(E.right(c));
    }
  });

  it("refuses anything it could not have written, as an issue of the field cursor", () => {
    const good = encodeListingCursor({ direction: "after", position: { createdAt: new Date(1_700_000_000_000), id: ID } });
    for (const value of [
      "",
      "!!!!",
      "a",
      `${good}=`,
      `${good}A`,
      `${good.slice(0, -1)}B`,
      good.slice(0, -4),
      wire(`c.1700000000000.${ID}`),
      wire(`a.1700000000000.${ID}x`),
      wire(`a.1700000000000.not-a-uuid-but-thirty-six-characters`),
      wire(`a.-0.${ID}`),
      wire(`a.007.${ID}`),
      wire(`a.1e12.${ID}`),
      wire(`a.253402300800000.${ID}`),
      wire(`a.-62167219200001.${ID}`),
      wire(`a.1700000000000.${ID}\n`),
      wire(`{"after":[1700000000000,"${ID}"]}`),
      "A".repeat(200),
    ])
      expect(refusal(value), value).toEqual([{ field: "cursor", message: expect.stringContaining("cursor") }]);
    expect(refusal(17)).toEqual([{ field: "cursor", message: "must be a string" }]);
    expect(refusal(good)).toEqual([]);
  });
});

describe("ListAlbumImages by cursor", () => {
  const ids = (page: E.Either<unknown, AlbumImagesPage>) => (E.isRight(page) ? page.right.items.map((i) => i.id) : page);
  const lister =
    (w: ReturnType<typeof world>) =>
    (input: { page: number; perPage: number; cursor?: string }, abilities: readonly Ability[] = ["image_list"]) =>
      listAlbumImages(w)(caller(abilities), { albumId: ALBUM, ...input })();

  const album = async () => {
    const w = world();
    const images = [];
    for (let i = 0; i < 7; i++) images.push(await seeded(w, { createdAt: new Date(Date.UTC(2026, 0, 1 + i)) }));
    return { w, list: lister(w), newest: images.reverse().map((i) => i.id) };
  };

  it("a numbered page gives the next cursor while a later page exists, and no prev cursor", async () => {
    const { list, newest } = await album();
    const first = await list({ page: 1, perPage: 3 });
    expect(ids(first)).toEqual(newest.slice(0, 3));
    expect(E.isRight(first) && first.right.prev).toBeUndefined();
    expect(E.isRight(first) && decodeListingCursor(first.right.next)).toEqual(E.right({ direction: "after", position: expect.objectContaining({ id: newest[2] }) }));
    const last = await list({ page: 3, perPage: 3 });
    expect(E.isRight(last) && [last.right.next, last.right.prev]).toEqual([undefined, undefined]);
  });

  it("pages from a cursor, reading one more to know whether a next page exists", async () => {
    const { list, newest } = await album();
    const first = await list({ page: 1, perPage: 3 });
    const second = await list({ page: 2, perPage: 3, cursor: E.isRight(first) ? first.right.next! : "" });
    expect(ids(second)).toEqual(newest.slice(3, 6));
    expect(E.isRight(second) && second.right.total).toBe(7);
    const third = await list({ page: 3, perPage: 3, cursor: E.isRight(second) ? second.right.next! : "" });
    expect(ids(third)).toEqual(newest.slice(6));
    expect(E.isRight(third) && third.right.next).toBeUndefined();
    // Exactly a page left: still no next cursor, thanks to the extra row.
    const exact = await list({ page: 2, perPage: 4, cursor: E.isRight(first) ? first.right.next! : "" });
    expect(ids(exact)).toEqual(newest.slice(3));
    expect(E.isRight(exact) && exact.right.next).toBeUndefined();
    // Back: the prev cursor of the third page gives the second, whose own prev gives the first.
    const back = await list({ page: 2, perPage: 3, cursor: E.isRight(third) ? third.right.prev! : "" });
    expect(ids(back)).toEqual(newest.slice(3, 6));
    const front = await list({ page: 1, perPage: 3, cursor: E.isRight(back) ? back.right.prev! : "" });
    expect(ids(front)).toEqual(newest.slice(0, 3));
    expect(E.isRight(front) && front.right.prev).toBeUndefined();
    expect(E.isRight(front) && front.right.next).toBeDefined();
  });

  it("refuses a bad cursor with the paging issues, before looking at abilities", async () => {
    const { list } = await album();
    const bad = await list({ page: 0, perPage: 3, cursor: "nope" });
    expect(E.isLeft(bad) && bad.left._tag === "Invalid" && bad.left.issues.map((i) => i.field)).toEqual(["page", "cursor"]);
    expect(E.isLeft(await list({ page: 1, perPage: 3, cursor: "nope" }, []))).toBe(true);
    const good = encodeListingCursor({ direction: "after", position: { createdAt: new Date(), id: ID } });
    expect(await list({ page: 1, perPage: 3, cursor: good }, [])).toEqual(E.right({ items: [], total: 0 }));
  });
});
