import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ability } from "@image-api/core";
import { albumCount, blobExists, blobKeyOf, DATABASE_BACKENDS, freshAlbum, uploaded, useBackend, type TestApp } from "./harness.js";

/** A token granting each album its own abilities. */
const grants = (t: TestApp, by: Record<string, readonly Ability[]>) =>
  t.token([], "unused-album", {
    abilities: Object.fromEntries(Object.entries(by).map(([album, abilities]) => [album, { Access: Object.fromEntries(abilities.map((a) => [a, true])) }])),
  });

describe.each(DATABASE_BACKENDS)("batches and cross-album copies on %s", (_name, start) => {
  let t: TestApp;
  const skipIfNone = useBackend(start, (app) => (t = app));

  describe("POST /api/v1/images/:id/duplicate with album_id", () => {
    it("copies into another album with image_duplicate on the source's and image_upload on the destination's", async (ctx) => {
      skipIfNone(ctx);
      const [from, to] = [freshAlbum("DUPF"), freshAlbum("DUPT")];
      const source = await uploaded(t, { album: from });
      const token = await grants(t, { [from]: ["image_duplicate"], [to]: ["image_upload", "image_list"] });
      const r = await t.http().post(`/api/v1/images/${source.id}/duplicate`).set("Authorization", t.auth(token)).type("form").send({ album_id: to });
      expect(r.status).toBe(200);
      expect(r.body.album_id).toBe(to);
      expect(r.body.infos.tags).toEqual([to]);
      expect(r.body.group_id).toBe(source.id);
      expect(await albumCount(t, to)).toBe(1);
      expect(await albumCount(t, from)).toBe(1);
      // No bytes copied: the copy shares the source's blob.
      expect(await blobKeyOf(t, r.body.id)).toBe(await blobKeyOf(t, source.id));
      const json = await t.http().post(`/api/v1/images/${source.id}/duplicate`).set("Authorization", t.auth(token)).send({ album_id: to });
      expect(json.status).toBe(200);
      expect(await albumCount(t, to)).toBe(2);
    });

    it("refuses without either ability, and with a malformed album id, copying nothing", async (ctx) => {
      skipIfNone(ctx);
      const [from, to] = [freshAlbum("DUPF"), freshAlbum("DUPT")];
      const source = await uploaded(t, { album: from });
      const send = async (by: Record<string, readonly Ability[]>, album: string) =>
        t.http().post(`/api/v1/images/${source.id}/duplicate`).set("Authorization", t.auth(await grants(t, by))).type("form").send({ album_id: album });
      expect((await send({ [from]: ["image_duplicate"], [to]: ["image_list"] }, to)).status).toBe(403);
      expect((await send({ [from]: ["image_upload"], [to]: ["image_upload"] }, to)).status).toBe(403);
      expect((await send({ [from]: ["image_duplicate"], [to]: ["image_upload"] }, "bad album/../x")).status).toBe(422);
      expect(await albumCount(t, to)).toBe(0);
      expect(await albumCount(t, from)).toBe(1);
      // Its own album named explicitly is the plain duplicate, which image_duplicate alone allows.
      expect((await send({ [from]: ["image_duplicate"] }, from)).status).toBe(200);
      // An empty field, as an HTML form or Swagger UI sends one left blank, is no album either.
      const blank = await send({ [from]: ["image_duplicate"] }, "");
      expect(blank.status).toBe(200);
      expect(blank.body.album_id).toBe(from);
      expect(await albumCount(t, from)).toBe(3);
    });
  });

  describe("DELETE /api/v1/images", () => {
    it("deletes every listed image and answers their ids in reverse order, skipping unknown ones; bytes go", async (ctx) => {
      skipIfNone(ctx);
      const [a, b] = [freshAlbum("BDA"), freshAlbum("BDB")];
      const one = await uploaded(t, { album: a });
      const two = await uploaded(t, { album: b });
      const keys = [await blobKeyOf(t, one.id), await blobKeyOf(t, two.id)];
      const unknown = "00000000-0000-4000-8000-000000000000";
      const token = await grants(t, { [a]: ["image_delete"], [b]: ["image_delete"] });
      const r = await t
        .http()
        .delete("/api/v1/images")
        .set("Authorization", t.auth(token))
        .type("form")
        .send(`image_ids[]=${one.id}&image_ids[]=${unknown}&image_ids[]=${two.id}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual([two.id, one.id]);
      expect(await albumCount(t, a)).toBe(0);
      expect(await albumCount(t, b)).toBe(0);
      for (const key of keys) expect(await blobExists(t, key)).toBe(false);
    });

    it("deletes nothing when one id is forbidden, and refuses a list that is missing, malformed or too long", async (ctx) => {
      skipIfNone(ctx);
      const [a, b] = [freshAlbum("BDA"), freshAlbum("BDB")];
      const mine = await uploaded(t, { album: a });
      const theirs = await uploaded(t, { album: b });
      const token = await grants(t, { [a]: ["image_delete"], [b]: ["image_list"] });
      const del = (body: object | string) => t.http().delete("/api/v1/images").set("Authorization", t.auth(token)).send(body);
      const forbidden = await del({ image_ids: [mine.id, theirs.id] });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.error.message).toContain(b);
      expect(await albumCount(t, a)).toBe(1);
      expect(await albumCount(t, b)).toBe(1);
      expect((await del({})).status).toBe(422);
      expect((await del({ image_ids: [1, 2] })).status).toBe(422);
      expect((await del({ image_ids: [] })).status).toBe(422);
      expect((await del({ image_ids: Array.from({ length: 501 }, () => mine.id) })).status).toBe(422);
      expect(await albumCount(t, a)).toBe(1);
      // The whole limit fits in a form body.
      const form = Array.from({ length: 500 }, (_, i) => `image_ids[]=${i === 0 ? mine.id : "00000000-0000-4000-8000-000000000000"}`).join("&");
      const r = await t.http().delete("/api/v1/images").set("Authorization", t.auth(token)).type("form").send(form);
      expect(r.status).toBe(200);
      expect(r.body).toEqual([mine.id]);
    });
  });

  describe("POST /api/v1/images/move", () => {
    it("moves all and answers the ids in reverse order; the image keeps its id, bytes and URLs", async (ctx) => {
      skipIfNone(ctx);
      const [a, b, dest] = [freshAlbum("MVA"), freshAlbum("MVB"), freshAlbum("MVD")];
      const one = await uploaded(t, { album: a });
      const two = await uploaded(t, { album: b });
      const key = await blobKeyOf(t, one.id);
      const token = await grants(t, { [a]: ["image_delete"], [b]: ["image_delete"], [dest]: ["image_upload", "image_list"] });
      const r = await t
        .http()
        .post("/api/v1/images/move")
        .set("Authorization", t.auth(token))
        .type("form")
        .send(`move_operations[${one.id}]=${dest}&move_operations[${two.id}]=${dest}&move_operations[00000000-0000-4000-8000-000000000000]=${dest}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual([two.id, one.id]);
      expect(await albumCount(t, dest)).toBe(2);
      expect(await albumCount(t, a)).toBe(0);
      const read = await t.http().get(`/api/v1/images/${one.id}`).set("Authorization", t.auth(token));
      expect(read.status).toBe(200);
      expect(read.body.album_id).toBe(dest);
      expect(read.body.infos.tags).toEqual([dest]);
      expect(read.body.original_url.split("?")[0]).toBe(one.original_url.split("?")[0]);
      expect(await blobKeyOf(t, one.id)).toBe(key);
    });

    it("moves nothing without image_delete on a source album or image_upload on a destination", async (ctx) => {
      skipIfNone(ctx);
      const [a, b, dest] = [freshAlbum("MVA"), freshAlbum("MVB"), freshAlbum("MVD")];
      const one = await uploaded(t, { album: a });
      const two = await uploaded(t, { album: b });
      const move = async (by: Record<string, readonly Ability[]>, body: object) =>
        t.http().post("/api/v1/images/move").set("Authorization", t.auth(await grants(t, by))).send(body);
      const ops = { move_operations: { [one.id]: dest, [two.id]: dest } };
      expect((await move({ [a]: ["image_delete"], [b]: ["image_list"], [dest]: ["image_upload"] }, ops)).status).toBe(403);
      expect((await move({ [a]: ["image_delete"], [b]: ["image_delete"], [dest]: ["image_list"] }, ops)).status).toBe(403);
      expect((await move({ [a]: ["image_delete"] }, { move_operations: { [one.id]: "not an album!" } })).status).toBe(422);
      expect((await move({ [a]: ["image_delete"] }, { move_operations: [dest] })).status).toBe(422);
      expect(await albumCount(t, a)).toBe(1);
      expect(await albumCount(t, b)).toBe(1);
      expect(await albumCount(t, dest)).toBe(0);
    });

    it("a move racing a duplicate of the same image, and a bulk delete racing a move, never lose or double an image", async (ctx) => {
      skipIfNone(ctx);
      for (let round = 0; round < 4; round++) {
        const [a, dest] = [freshAlbum("RCA"), freshAlbum("RCD")];
        const image = await uploaded(t, { album: a });
        const token = await grants(t, { [a]: ["image_delete", "image_duplicate", "image_upload", "image_list"], [dest]: ["image_upload", "image_delete", "image_duplicate", "image_list"] });
        const auth = t.auth(token);
        const [moved, copied] = await Promise.all([
          t.http().post("/api/v1/images/move").set("Authorization", auth).send({ move_operations: { [image.id]: dest } }),
          t.http().post(`/api/v1/images/${image.id}/duplicate`).set("Authorization", auth),
        ]);
        expect([moved.status, copied.status]).toEqual([200, 200]);
        expect((await albumCount(t, a)) + (await albumCount(t, dest))).toBe(2);
        const [deleted, movedBack] = await Promise.all([
          t.http().delete("/api/v1/images").set("Authorization", auth).send({ image_ids: [image.id] }),
          t.http().post("/api/v1/images/move").set("Authorization", auth).send({ move_operations: { [image.id]: a } }),
        ]);
        expect(deleted.status).toBe(200);
        expect(movedBack.status).toBe(200);
        expect(deleted.body).toEqual([image.id]);
        // Either the move went first (then the delete took it from its new album) or it found nothing left to move.
        expect((await albumCount(t, a)) + (await albumCount(t, dest))).toBe(1);
      }
    });
  });
});
