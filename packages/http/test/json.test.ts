import { describe, expect, it } from "vitest";
import { float, toJson } from "../src/present/json.js";

describe("toJson", () => {
  it("prints floats with a fractional part and everything else as JSON.stringify does", () => {
    const body = { crop_x: float(3), crop_y: float(2.5), crop_w: float(-0), n: 3, list: [float(1), "x"], nested: { f: float(1e21) } };
    expect(toJson(body)).toBe('{"crop_x":3.0,"crop_y":2.5,"crop_w":0.0,"n":3,"list":[1.0,"x"],"nested":{"f":1e+21}}');
    expect(JSON.parse(toJson(body))).toEqual({ crop_x: 3, crop_y: 2.5, crop_w: 0, n: 3, list: [1, "x"], nested: { f: 1e21 } });
  });

  it("leaves a client's own data alone, even one shaped like a marked value", () => {
    const metadatas = { __float: 3, text: "__float_0000000000000000__:1", quote: 'a"b' };
    expect(toJson({ metadatas })).toBe(JSON.stringify({ metadatas }));
  });
});
