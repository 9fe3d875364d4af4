import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_BACKENDS, decodeJwt, fixturePng, freshAlbum, nowSeconds, SECRET, useBackend, type TestApp } from "./harness.js";

const A_SECRET = "tenant-a-secret-0123456789-abcdefghijkl";
const A_NEXT = "tenant-a-rotated-0123456789-abcdefghijk";
const B_SECRET = "tenant-b-secret-0123456789-abcdefghijkl";
// tenant-a rotates: its new secret signs, the old one still verifies.
const SECRETS = `tenant-a=${A_NEXT},tenant-a=${A_SECRET},tenant-b=${B_SECRET}`;

const ALL = ["image_upload", "image_list", "image_duplicate", "image_delete", "image_caption"] as const;

describe.each(DATABASE_BACKENDS)("tenants and search on %s", (_name, start) => {
  let t: TestApp;
  const skipIfNone = useBackend(start, (app) => (t = app), { IMAGE_API_JWT_SECRETS: SECRETS });

  const sign = (claims: Record<string, unknown>, secret: string) =>
    new SignJWT({ iat: nowSeconds(t), exp: nowSeconds(t) + 3600, ...claims }).setProtectedHeader({ typ: "JWT", alg: "HS256" }).sign(new TextEncoder().encode(secret));
  const userToken = (iss: string | undefined, albums: readonly string[], abilities: readonly string[] = ALL, secret?: string) =>
    sign(
      {
        ...(iss ? { iss } : {}),
        user_id: `user-of-${iss ?? "default"}`,
        abilities: Object.fromEntries(albums.map((a) => [a, { Access: Object.fromEntries(abilities.map((x) => [x, true])) }])),
      },
      secret ?? (iss === "tenant-a" ? A_SECRET : iss === "tenant-b" ? B_SECRET : SECRET),
    );
  const as = (token: string) => ({ Authorization: `Token token="${token}"` });
  const uploadAs = async (token: string, album: string, title: string, filename = "photo.png") => {
    // The manual clock stands still otherwise; newest first needs distinct times.
    t.clock.advance(1_000);
    const r = await t
      .http()
      .post(`/api/v1/albums/${album}/images`)
      .set(as(token))
      .field("title", title)
      .attach("file", await fixturePng(), filename);
    expect(r.status, r.text).toBe(200);
    return r.body as { id: string };
  };
  const search = async (token: string, query: string) => t.http().get(`/api/v1/search${query}`).set(as(token));

  describe("two tenants with the same album id", () => {
    it("never see, list, search, change, duplicate, move or delete each other's images", async (ctx) => {
      skipIfNone(ctx);
      const album = freshAlbum("SHARED");
      const [ta, tb] = [await userToken("tenant-a", [album, "dest"]), await userToken("tenant-b", [album, "dest"])];
      const a = await uploadAs(ta, album, "alpha picture");
      const b = await uploadAs(tb, album, "beta picture");
      const listed = async (token: string) => ((await t.http().get(`/api/v1/albums/${album}/images`).set(as(token))).body as { id: string }[]).map((i) => i.id);
      expect(await listed(ta)).toEqual([a.id]);
      expect(await listed(tb)).toEqual([b.id]);
      // The default tenant (no iss) shares the album id too, and sees neither.
      expect(await listed(await userToken(undefined, [album]))).toEqual([]);
      for (const route of [`/api/v1/images/${a.id}`, `/api/v1/images/${a.id}/embed`, `/api/v1/images/${a.id}/user`])
        expect((await t.http().get(route).set(as(tb))).status).toBe(404);
      expect((await t.http().put(`/api/v1/images/${a.id}`).set(as(tb)).send({ title: "taken" })).status).toBe(404);
      expect((await t.http().post(`/api/v1/images/${a.id}/duplicate`).set(as(tb))).status).toBe(404);
      expect((await t.http().delete(`/api/v1/images/${a.id}`).set(as(tb))).status).toBe(404);
      expect((await t.http().post("/api/v1/images/move").set(as(tb)).send({ move_operations: { [a.id]: "dest" } })).body).toEqual([]);
      expect((await t.http().delete("/api/v1/images").set(as(tb)).send({ image_ids: [a.id] })).body).toEqual([]);
      expect(((await search(tb, "?q=*")).body as { id: string }[]).map((i) => i.id)).toEqual([b.id]);
      expect(((await search(tb, "?q=alpha")).body as unknown[]).length).toBe(0);
      // Still there, untouched, for its own tenant.
      const mine = await t.http().get(`/api/v1/images/${a.id}`).set(as(ta));
      expect(mine.status).toBe(200);
      expect(mine.body.title).toBe("alpha picture");
      expect(mine.body.album_id).toBe(album);
    });

    it("refuses an unknown issuer and a token signed with another tenant's secret; re-issues with the tenant's first secret", async (ctx) => {
      skipIfNone(ctx);
      const album = freshAlbum("ISS");
      expect((await t.http().get(`/api/v1/albums/${album}/images`).set(as(await userToken("tenant-z", [album], ALL, A_SECRET)))).status).toBe(401);
      expect((await t.http().get(`/api/v1/albums/${album}/images`).set(as(await userToken("tenant-a", [album], ALL, B_SECRET)))).status).toBe(401);
      // The rotated-out secret still verifies; the X-token comes back signed with the new one, same iss.
      const old = await t.http().get(`/api/v1/albums/${album}/images`).set(as(await userToken("tenant-a", [album], ALL, A_SECRET)));
      expect(old.status).toBe(200);
      const reissued = old.headers["x-token"] as string;
      expect(decodeJwt(reissued).payload.iss).toBe("tenant-a");
      const { jwtVerify } = await import("jose");
      await expect(jwtVerify(reissued, new TextEncoder().encode(A_NEXT))).resolves.toBeDefined();
      await expect(jwtVerify(reissued, new TextEncoder().encode(A_SECRET))).rejects.toThrow();
      // Tokens without iss keep working with the default secret.
      expect((await t.http().get(`/api/v1/albums/${album}/images`).set(as(await userToken(undefined, [album])))).status).toBe(200);
    });
  });

  describe("GET /api/v1/search", () => {
    let album: string;
    let other: string;
    let token: string;
    const ids: Record<string, string> = {};
    beforeAll(async () => {
      if (!t) return;
      album = freshAlbum("SRCH");
      other = freshAlbum("SRCO");
      token = await userToken("tenant-a", [album, other]);
      ids.cafe = (await uploadAs(token, album, "Café de Flore", "superplophey.png")).id;
      ids.cat = (await uploadAs(token, album, "Big black cat", "IMG_0042.png")).id;
      ids.other = (await uploadAs(token, other, "black dog", "dog.png")).id;
      // Not searchable by this token: no image_list on its album.
      ids.hidden = (await uploadAs(await userToken("tenant-a", ["hidden-album"]), "hidden-album", "black cat hidden")).id;
    });
    const found = async (query: string, as_ = token) => {
      const r = await search(as_, query);
      expect(r.status, r.text).toBe(200);
      return (r.body as { id: string }[]).map((i) => i.id);
    };

    it("answers each query form with what it must and must not return", async (ctx) => {
      skipIfNone(ctx);
      expect(await found("?q=cafe")).toEqual([ids.cafe]);
      expect(await found("?q=CAFÉ")).toEqual([ids.cafe]);
      expect(await found("?q=black")).toEqual([ids.other, ids.cat]);
      expect(await found(`?q=${encodeURIComponent('"black cat"')}`)).toEqual([ids.cat]);
      expect(await found(`?q=${encodeURIComponent('"cat black"')}`)).toEqual([]);
      expect(await found("?q=cafe%20OR%20dog")).toEqual([ids.other, ids.cafe]);
      expect(await found("?q=black%20-dog")).toEqual([ids.cat]);
      expect(await found("?q=black%20NOT%20cat")).toEqual([ids.other]);
      expect(await found(`?q=${encodeURIComponent(`album_id:${other}`)}`)).toEqual([ids.other]);
      expect(await found("?q=title:flore")).toEqual([ids.cafe]);
      expect(await found("?q=filename:img_0042")).toEqual([ids.cat]);
      expect(await found("?q=*")).toEqual([ids.other, ids.cat, ids.cafe]);
    });

    it("matches inside filenames with version=2 only", async (ctx) => {
      skipIfNone(ctx);
      expect(await found("?q=plop")).toEqual([]);
      expect(await found("?q=plop&version=2")).toEqual([ids.cafe]);
    });

    it("pages with X-Total-Count and a Link that keeps the query", async (ctx) => {
      skipIfNone(ctx);
      const r = await search(token, "?q=black&per_page=1&page=2");
      expect(r.headers["x-total-count"]).toBe("2");
      expect((r.body as { id: string }[]).map((i) => i.id)).toEqual([ids.cat]);
      expect(r.headers.link).toContain("q=black&page=1&per_page=1");
    });

    it("refuses a query that does not parse, naming the position, and bad parameters", async (ctx) => {
      skipIfNone(ctx);
      const broken = await search(token, `?q=${encodeURIComponent("cat AND (dog")}`);
      expect(broken.status).toBe(422);
      expect(broken.body.error.message).toMatch(/position \d+/);
      expect((await search(token, "?q=nope:cat")).status).toBe(422);
      expect((await search(token, "?q=")).status).toBe(422);
      expect((await search(token, "?q=a&q=b")).status).toBe(422);
      expect((await search(token, "?q=cat&version=3")).status).toBe(422);
    });

    it("a token without abilities finds nothing", async (ctx) => {
      skipIfNone(ctx);
      expect(await found("?q=*", await sign({ iss: "tenant-a", user_id: "u" }, A_SECRET))).toEqual([]);
    });

    it("a search token searches its q (the whole tenant or one album) and deletes only with image_delete true inside it", async (ctx) => {
      skipIfNone(ctx);
      const whole = await sign({ iss: "tenant-a", q: "*" }, A_SECRET);
      const everything = await found("?q=", whole);
      expect(everything).toEqual(expect.arrayContaining([ids.cafe, ids.cat, ids.other, ids.hidden]));
      expect(await found("?q=", await sign({ iss: "tenant-a", q: other }, A_SECRET))).toEqual([ids.other]);
      expect(await found("?q=cat", await sign({ iss: "tenant-a", q: album }, A_SECRET))).toEqual([ids.cat]);
      // Another tenant's search token sees none of it.
      expect(await found("?q=black", await sign({ iss: "tenant-b", q: "*" }, B_SECRET))).toEqual([]);

      const victim = (await uploadAs(token, other, "to delete")).id;
      const del = async (claims: Record<string, unknown>) => t.http().delete(`/api/v1/images/${victim}`).set(as(await sign({ iss: "tenant-a", ...claims }, A_SECRET)));
      expect((await del({ q: other })).status).toBe(403);
      expect((await del({ q: other, image_delete: false })).status).toBe(403);
      expect((await del({ q: album, image_delete: true })).status).toBe(403);
      expect((await del({ q: other, image_delete: true })).status).toBe(204);
      expect((await t.http().get(`/api/v1/images/${victim}`).set(as(token))).status).toBe(404);
    });

    it("finds an upload, a caption change, a move and a delete in the very next request", async (ctx) => {
      skipIfNone(ctx);
      const fresh = (await uploadAs(token, album, "zebra crossing")).id;
      expect(await found("?q=zebra")).toEqual([fresh]);
      await t.http().put(`/api/v1/images/${fresh}`).set(as(token)).send({ title: "giraffe" });
      expect(await found("?q=zebra")).toEqual([]);
      expect(await found("?q=giraffe")).toEqual([fresh]);
      await t.http().post("/api/v1/images/move").set(as(token)).send({ move_operations: { [fresh]: other } });
      expect(await found(`?q=${encodeURIComponent(`giraffe album_id:${other}`)}`)).toEqual([fresh]);
      await t.http().delete(`/api/v1/images/${fresh}`).set(as(token));
      expect(await found("?q=giraffe")).toEqual([]);
    });
  });
});
