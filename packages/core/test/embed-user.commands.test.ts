import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { anImage } from "@image-api/testkit";
import { duplicateImage, embedImage, embedOf, getImageUser, renditionSize, VARIANTS, type Variant } from "../src/index.js";
import { ALBUM, caller, seeded, world } from "./commands.fixture.js";

const tagOf = (e: E.Either<{ _tag: string }, unknown>) => (E.isLeft(e) ? e.left._tag : "Right");
const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

describe("renditionSize", () => {
  // The same sizes the sharp renderer's tests decode from its output.
  const landscape = anImage({ originalWidth: 400, originalHeight: 300 });
  const expected: Record<Variant, [number, number]> = {
    download: [400, 300],
    original: [400, 300],
    full_no_sharinpix: [1920, 1440],
    full: [1920, 1440],
    large: [200, 200],
    mini: [100, 100],
    fill100: [300, 225],
    fit2000: [2000, 1500],
  };

  it.each([...VARIANTS])("%s of a plain image", (variant) => {
    const { width, height } = renditionSize(landscape, variant);
    expect([width, height]).toEqual(expected[variant]);
  });

  it.each([...VARIANTS])("%s of a cropped, quarter-turned image", (variant) => {
    const edited: Record<Variant, [number, number]> = {
      ...expected,
      full: [960, 1920],
      fill100: [300, 600],
      fit2000: [1000, 2000],
    };
    const { width, height } = renditionSize({ ...landscape, crop: { x: 100, y: 50, w: 200, h: 100 }, rotation: 90 }, variant);
    expect([width, height]).toEqual(edited[variant]);
  });

  it("cuts a fractional crop at whole pixels inside the image", () => {
    expect(renditionSize({ ...landscape, crop: { x: 0, y: 0, w: 10.4, h: 20.6 } }, "original")).toEqual({ width: 400, height: 300 });
    expect(renditionSize({ ...landscape, crop: { x: 0, y: 0, w: 10.4, h: 20.6 }, rotation: 0 }, "fill100")).toEqual({ width: 300, height: 630 });
    expect(renditionSize({ ...landscape, crop: { x: 0.5, y: 0, w: 399.5, h: 300 } }, "fit2000")).toEqual({ width: 2000, height: 1504 });
  });

  it("never scales an axis below one pixel", () => {
    expect(renditionSize({ ...landscape, originalWidth: 1, originalHeight: 10_000 }, "full")).toEqual({ width: 1, height: 1920 });
  });
});

describe("EmbedImage", () => {
  it("lists mini, large and full with their delivered widths, narrowest first", async () => {
    const w = world();
    const image = await seeded(w);
    const embed = right(await embedImage(w)(caller(["image_list"]), image.id)());
    expect(embed.image).toEqual(image);
    expect(embed.main).toEqual({ variant: "full", size: { width: 1920, height: 1920 } });
    expect(embed.sources).toEqual([
      { variant: "mini", width: 100 },
      { variant: "large", width: 200 },
      { variant: "full", width: 1920 },
    ]);
  });

  it("follows the crop and the rotation", () => {
    const embed = embedOf(anImage({ originalWidth: 400, originalHeight: 300, crop: { x: 100, y: 50, w: 200, h: 100 }, rotation: 90 }));
    expect(embed.main.size).toEqual({ width: 960, height: 1920 });
    expect(embed.sources.map((s) => s.width)).toEqual([100, 200, 960]);
  });

  it.each([
    [100, ["full", "large"], [100, 200]],
    [200, ["mini", "full"], [100, 200]],
    [50, ["full", "mini", "large"], [50, 100, 200]],
  ] as const)("a tall image whose full rendition is %i px wide lists each width once", (width, variants, widths) => {
    const embed = embedOf(anImage({ originalWidth: width, originalHeight: 1920 }));
    expect(embed.sources.map((s) => s.variant)).toEqual(variants);
    expect(embed.sources.map((s) => s.width)).toEqual(widths);
    expect(embed.main.size).toEqual({ width, height: 1920 });
  });

  it("needs image_list on the image's album; an unknown or malformed id is not found", async () => {
    const w = world();
    const image = await seeded(w);
    for (const c of [caller(["image_duplicate", "image_upload"]), caller(["image_list"], "OTHER")]) {
      expect(tagOf(await embedImage(w)(c, image.id)())).toBe("Forbidden");
    }
    expect(tagOf(await embedImage(w)(caller(["image_list"]), "99999999-9999-4999-8999-999999999999")())).toBe("NotFound");
    expect(tagOf(await embedImage(w)(caller(["image_list"]), "not a uuid")())).toBe("NotFound");
  });

  it("does not reach another tenant's image", async () => {
    const w = world();
    const image = await seeded(w);
    expect(tagOf(await embedImage(w)({ ...caller(["image_list"]), iss: "another-tenant" }, image.id)())).toBe("NotFound");
  });
});

describe("GetImageUser", () => {
  it("is null for an image that does not record its creator", async () => {
    const w = world();
    const image = await seeded(w, { createdBy: null });
    expect(await getImageUser(w)(caller(["image_list"]), image.id)()).toEqual(E.right(null));
  });

  it("is the user who created the image, and a copy's is the user who duplicated it", async () => {
    const w = world();
    const image = await seeded(w, { createdBy: "uploader-1" });
    expect(await getImageUser(w)(caller(["image_list"]), image.id)()).toEqual(E.right("uploader-1"));
    const copy = right(await duplicateImage(w)({ ...caller(["image_duplicate"]), user_id: "duplicator-2" }, image.id)());
    expect(await getImageUser(w)(caller(["image_list"]), copy.id)()).toEqual(E.right("duplicator-2"));
    expect(await getImageUser(w)(caller(["image_list"]), image.id)()).toEqual(E.right("uploader-1"));
  });

  it("needs image_list on the image's album; an unknown id is not found", async () => {
    const w = world();
    const image = await seeded(w, { createdBy: "uploader-1" });
    expect(tagOf(await getImageUser(w)(caller(["image_duplicate"]), image.id)())).toBe("Forbidden");
    expect(tagOf(await getImageUser(w)(caller(["image_list"], "OTHER"), image.id)())).toBe("Forbidden");
    expect(tagOf(await getImageUser(w)(caller(["image_list"]), "99999999-9999-4999-8999-999999999999")())).toBe("NotFound");
  });
});

// The fixture's album, so a test that seeds elsewhere fails loudly rather than passing by accident.
void ALBUM;
