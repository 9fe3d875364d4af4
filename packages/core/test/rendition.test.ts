import { describe, expect, it } from "vitest";
import { anImage } from "@image-api/testkit";
import { isPassThrough, parseRenditionName, renditionName, renditionOf, VARIANTS, type Rotation } from "../src/index.js";

describe("renditions", () => {
  it("names the seed's variants like Cloudinary transformations", () => {
    const image = anImage({ rotation: 90, crop: { x: 3, y: 2, w: 10, h: 11 } });
    expect(renditionName(renditionOf(image, "download"))).toBe("fl_attachment");
    expect(renditionName(renditionOf(image, "full_no_sharinpix"))).toBe("c_fit,h_1920,w_1920/fl_attachment");
    expect(renditionName(renditionOf(image, "mini"))).toBe("c_crop,h_11,w_10,x_3,y_2/a_90/c_fit,h_1920,w_1920/c_fill,h_100,w_100/fl_attachment");
    expect(renditionName(renditionOf(image, "fill100"))).toBe("c_crop,h_11,w_10,x_3,y_2/a_90/c_fit,w_300");
  });

  it("applies rotation and crop to the derived variants only", () => {
    const image = anImage({ rotation: 270, crop: { x: 1, y: 1, w: 5, h: 5 } });
    for (const v of ["download", "original", "full_no_sharinpix"] as const) {
      expect(renditionOf(image, v)).toMatchObject({ rotation: 0, crop: null });
    }
    for (const v of ["full", "large", "mini", "fill100", "fit2000"] as const) {
      expect(renditionOf(image, v)).toMatchObject({ rotation: 270, crop: { x: 1, y: 1, w: 5, h: 5 } });
    }
    expect(isPassThrough(renditionOf(image, "original"))).toBe(true);
    expect(isPassThrough(renditionOf(image, "full_no_sharinpix"))).toBe(false);
  });

  it("parses every name it produces back to the same rendition", () => {
    for (const rotation of [0, 90, 180, 270] as Rotation[]) {
      for (const crop of [null, { x: 3, y: 2, w: 10.5, h: 11 }]) {
        for (const variant of VARIANTS) {
          const r = renditionOf(anImage({ rotation, crop }), variant);
          expect(parseRenditionName(variant, renditionName(r))).toEqual(r);
        }
      }
    }
  });

  it.each(["", "c_fit", "a_45", "c_fit,w_300/../x", "fl_attachment/c_fit,w_300", "c_fill,w_1,h_2", "raw/a_90", "a_90/a_90"])(
    "refuses %j",
    (name) => {
      expect(parseRenditionName("full", name)).toBeNull();
    },
  );
});
