import { describe, expect, it } from "vitest";
import { mediaTypeOf, UPLOAD_FORMATS } from "../src/shared/media-types.js";

describe("mediaTypeOf", () => {
  it("knows the stored names, their aliases, in any case", () => {
    expect(["jpeg", "jpg", "JPG", "png", "tif", "TIFF", "heic", "avif"].map(mediaTypeOf)).toEqual([
      "image/jpeg",
      "image/jpeg",
      "image/jpeg",
      "image/png",
      "image/tiff",
      "image/tiff",
      "image/heic",
      "image/avif",
    ]);
  });

  it("answers undefined for a format it does not list, whatever its name", () => {
    for (const name of ["exe", "", "constructor", "toString", "__proto__"]) expect(mediaTypeOf(name), name).toBeUndefined();
  });

  it("has an image media type for every upload format", () => {
    for (const f of UPLOAD_FORMATS) expect(mediaTypeOf(f), f).toMatch(/^image\//);
  });
});
