import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { anImage } from "@image-api/testkit";
import { applyChanges, changedAspects, displaySize, duplicateOf, type ImageId } from "../src/index.js";

const now = new Date("2026-02-03T04:05:06.789Z");
const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(JSON.stringify(e.left));
  return e.right;
};

describe("Image aggregate", () => {
  it("duplicates into a new id, same album, fresh timestamps, group rooted at the source", () => {
    const source = anImage({ title: "t", metadatas: { a: "b" }, rotation: 90, crop: { x: 1, y: 2, w: 3, h: 4 } });
    const copy = duplicateOf(source, "11111111-1111-4111-8111-111111111111" as ImageId, now, null);
    expect(copy).toEqual({ ...source, id: "11111111-1111-4111-8111-111111111111", groupId: source.id, createdAt: now, updatedAt: now, version: 1 });
    const copyOfCopy = duplicateOf(copy, "22222222-2222-4222-8222-222222222222" as ImageId, now, null);
    expect(copyOfCopy.groupId).toBe(source.id);
  });

  it("reports the crop size, turned by the rotation", () => {
    expect(displaySize(anImage({ originalWidth: 60, originalHeight: 40 }))).toEqual({ width: 60, height: 40 });
    expect(displaySize(anImage({ originalWidth: 60, originalHeight: 40, rotation: 90 }))).toEqual({ width: 40, height: 60 });
    expect(displaySize(anImage({ crop: { x: 3, y: 2, w: 10, h: 11 } }))).toEqual({ width: 10, height: 11 });
    expect(displaySize(anImage({ crop: { x: 3, y: 2, w: 10, h: 11 }, rotation: 270 }))).toEqual({ width: 11, height: 10 });
  });

  it("applies caption, rotation and crop and stamps updatedAt", () => {
    const next = right(applyChanges(anImage(), { title: "Ti", description: "Dé", rotation: 180, crop: { x: 3, y: 2, w: 10, h: 11 } }, now));
    expect(next).toMatchObject({ title: "Ti", description: "Dé", rotation: 180, crop: { x: 3, y: 2, w: 10, h: 11 }, updatedAt: now });
  });

  it("clears text with blanks and the crop with an all-zero rectangle", () => {
    const image = anImage({ title: "x", description: "y", crop: { x: 1, y: 1, w: 2, h: 2 } });
    const next = right(applyChanges(image, { title: "  ", description: null, crop: { x: 0, y: 0, w: 0, h: 0 } }, now));
    expect(next).toMatchObject({ title: null, description: null, crop: null });
  });

  it.each([
    [{ rotation: 45 }, "rotation"],
    [{ rotation: -90 }, "rotation"],
    [{ crop: { x: 40, y: 0, w: 10, h: 10 } }, "crop"],
    [{ crop: { x: -1, y: 0, w: 10, h: 10 } }, "crop"],
    [{ crop: { x: 0, y: 0, w: 0, h: 10 } }, "crop"],
    [{ crop: { x: 0, y: 0, w: Number.NaN, h: 10 } }, "crop"],
    [{ crop: { x: 0.0000001, y: 0, w: 10, h: 10 } }, "crop"],
    [{ title: "t".repeat(256) }, "title"],
    [{ description: "d".repeat(10_001) }, "description"],
  ])("refuses %j", (changes, field) => {
    const result = applyChanges(anImage(), changes, now);
    expect(E.isLeft(result) && result.left.issues.map((i) => i.field)).toEqual([field]);
  });

  it("counts characters, not UTF-16 units, against the title limit", () => {
    expect(E.isRight(applyChanges(anImage(), { title: "😀".repeat(255) }, now))).toBe(true);
  });

  it("tells which aspects changed", () => {
    const before = anImage();
    expect(changedAspects(before, right(applyChanges(before, { rotation: 0, title: null }, now)))).toEqual({ caption: false, rotation: false, crop: false });
    expect(changedAspects(before, right(applyChanges(before, { rotation: 90 }, now)))).toEqual({ caption: false, rotation: true, crop: false });
    expect(changedAspects(before, right(applyChanges(before, { crop: { x: 0, y: 0, w: 5, h: 5 } }, now)))).toEqual({ caption: false, rotation: false, crop: true });
  });
});
