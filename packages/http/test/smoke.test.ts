import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALBUM, startTestApp, type TestApp } from "./harness.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe("smoke", () => {
  it("uploads and duplicates", async () => {
    const png = await sharp({ create: { width: 48, height: 48, channels: 3, background: "#7D7D7D" } }).png().toBuffer();
    const token = await t.token(["image_upload", "image_duplicate"]);
    const up = await t.http().post(`/api/v1/albums/${ALBUM}/images`).set("Authorization", t.auth(token)).attach("file", png, "Super Image.png");
    expect(up.status).toBe(200);
    const dup = await t.http().post(`/api/v1/images/${up.body.id}/duplicate`).set("Authorization", t.auth(token));
    expect(dup.status).toBe(200);
    expect(dup.body.group_id).toBe(up.body.id);
    expect(dup.text).toContain('"crop_x":0.0');
  });
});
