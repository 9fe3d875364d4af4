import * as E from "fp-ts/lib/Either.js";
import { parseFragment, type DefaultTreeAdapterMap } from "parse5";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ability, Image } from "@image-api/core";
import { anImage } from "@image-api/testkit";
import { binary, DATABASE_BACKENDS, fixturePng, freshAlbum, pathOf, uploaded, useBackend, type TestApp } from "./harness.js";

type Node = DefaultTreeAdapterMap["node"];
type Element = DefaultTreeAdapterMap["element"];

/** Every node of a parsed fragment, depth first. */
const nodesOf = (node: Node): Node[] => ["childNodes" in node ? node.childNodes : [], "content" in node ? [node.content] : []].flat().flatMap((n) => [n, ...nodesOf(n)]);
const isElement = (n: Node): n is Element => "tagName" in n;
const attributesOf = (el: Element): Record<string, string> => Object.fromEntries(el.attrs.map((a) => [a.name, a.value]));

/** The HTML parsed as a browser parses markup pasted into a page body. */
const parsed = (html: string) => {
  const nodes = nodesOf(parseFragment(html));
  return { nodes, elements: nodes.filter(isElement) };
};

/** `url 100w, url 200w` as the HTML spec splits it: a candidate's URL runs to whitespace, its descriptor to a comma. */
const candidates = (srcset: string): { url: string; width: number }[] => {
  const tokens = srcset.trim().split(/\s+/);
  const out: { url: string; width: number }[] = [];
  for (let i = 0; i < tokens.length; i += 2) {
    const m = /^(\d+)w,?$/.exec(tokens[i + 1] ?? "");
    expect(m, `descriptor after ${tokens[i]}`).not.toBeNull();
    out.push({ url: tokens[i]!, width: Number(m![1]) });
  }
  return out;
};

const HOSTILE_TITLE = `"><script>alert(1)</script> & 'x'`;

describe.each(DATABASE_BACKENDS)("embed and user of an image on %s", (_name, start) => {
  let t: TestApp;
  const skipIfNone = useBackend(start, (app) => (t = app));

  const call = async (path: string, album: string, abilities: readonly Ability[] = ["image_list"], extra = {}) =>
    t.http().get(path).set("Authorization", t.auth(await t.token(abilities, album, extra)));
  const embed = (id: string, album: string, abilities?: readonly Ability[]) => call(`/api/v1/images/${id}/embed`, album, abilities);
  const userOf = (id: string, album: string, abilities?: readonly Ability[]) => call(`/api/v1/images/${id}/user`, album, abilities);
  const image = async (id: string, album: string) => (await call(`/api/v1/images/${id}`, album)).body as Record<string, any>;
  const fetched = async (url: string) => {
    const r = await binary(t.http().get(pathOf(url)));
    expect(r.status, url).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^image\//);
    const m = await sharp(r.body as Buffer).metadata();
    return { width: m.width, height: m.height };
  };

  /** The one `<img>` of an embed, after checking that it is all the markup there is. */
  const imgOf = async (id: string, album: string) => {
    const r = await embed(id, album);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(r.headers["x-token"]).toBeDefined();
    expect(Object.keys(r.body)).toEqual(["html"]);
    const html = r.body.html as string;
    const { nodes, elements } = parsed(html);
    expect(elements.map((e) => e.tagName)).toEqual(["img"]);
    expect(nodes).toHaveLength(1);
    return { html, attributes: attributesOf(elements[0]!) };
  };

  /** Fetches every srcset candidate through the app and checks it is as wide as it says. */
  const checkCandidates = async (srcset: string) => {
    const list = candidates(srcset);
    for (const c of list) expect((await fetched(c.url)).width, c.url).toBe(c.width);
    const widths = list.map((c) => c.width);
    expect(new Set(widths).size).toBe(widths.length);
    return list;
  };

  describe("GET /api/v1/images/:id/embed", () => {
    it("is one lazy <img> of the full rendition, with mini, large and full in srcset at their real widths", async (ctx) => {
      skipIfNone(ctx);
      const album = freshAlbum("EMB");
      const { id } = await uploaded(t, { album, fields: { title: "Harbour at dusk" } });
      const json = await image(id, album);
      const { attributes } = await imgOf(id, album);
      expect(Object.keys(attributes).sort()).toEqual(["alt", "height", "loading", "src", "srcset", "width"]);
      expect(attributes.src).toBe(json.thumbnails.full);
      expect(attributes.alt).toBe("Harbour at dusk");
      expect(attributes.loading).toBe("lazy");
      // A 48×48 original: the full rendition is fitted into 1920×1920, the square thumbnails filled.
      expect(await fetched(attributes.src!)).toEqual({ width: Number(attributes.width), height: Number(attributes.height) });
      expect([attributes.width, attributes.height]).toEqual(["1920", "1920"]);
      const list = await checkCandidates(attributes.srcset!);
      expect(list).toEqual([
        { url: json.thumbnails.mini, width: 100 },
        { url: json.thumbnails.large, width: 200 },
        { url: json.thumbnails.full, width: 1920 },
      ]);
    });

    it("escapes the title: it comes back as the alt attribute's value and adds no markup", async (ctx) => {
      skipIfNone(ctx);
      const album = freshAlbum("EMBX");
      const { id } = await uploaded(t, { album, fields: { title: HOSTILE_TITLE } });
      const { html, attributes } = await imgOf(id, album);
      expect(attributes.alt).toBe(HOSTILE_TITLE);
      expect(html).toContain('alt="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;x&#39;"');
      expect(html).not.toMatch(/<script/i);
      expect(parsed(html).elements.some((e) => e.tagName === "script")).toBe(false);
    });

    it("has an empty alt without a title", async (ctx) => {
      skipIfNone(ctx);
      const album = freshAlbum("EMBN");
      const { id } = await uploaded(t, { album });
      const { html, attributes } = await imgOf(id, album);
      expect(attributes.alt).toBe("");
      expect(html).toContain(' alt="" ');
    });

    it("follows a crop and a rotation, and lists a width two renditions share only once", async (ctx) => {
      skipIfNone(ctx);
      const album = freshAlbum("EMBE");
      const edited = await uploaded(t, { album, bytes: await fixturePng(400, 300) });
      const put = await t
        .http()
        .put(`/api/v1/images/${edited.id}`)
        .set("Authorization", t.auth(await t.token(["image_rotate", "image_crop"], album)))
        .type("form")
        .send("rotation=90&crop_x=100&crop_y=50&crop_w=200&crop_h=100");
      expect(put.status).toBe(200);
      const turned = (await imgOf(edited.id, album)).attributes;
      expect([turned.width, turned.height]).toEqual(["960", "1920"]);
      expect(await fetched(turned.src!)).toEqual({ width: 960, height: 1920 });
      expect((await checkCandidates(turned.srcset!)).map((c) => c.width)).toEqual([100, 200, 960]);

      // 100 px wide and already within 1920: the full rendition is as wide as mini, and stands for that width.
      const tall = await uploaded(t, { album, bytes: await fixturePng(100, 1920) });
      const narrow = (await imgOf(tall.id, album)).attributes;
      expect([narrow.width, narrow.height]).toEqual(["100", "1920"]);
      expect(await checkCandidates(narrow.srcset!)).toEqual([
        { url: tall.thumbnails.full, width: 100 },
        { url: tall.thumbnails.large, width: 200 },
      ]);
    });

    it("needs image_list on the image's album; an unknown id is not found", async (ctx) => {
      skipIfNone(ctx);
      const album = freshAlbum("EMBF");
      const { id } = await uploaded(t, { album });
      const denied = await embed(id, album, ["image_duplicate", "image_caption"]);
      expect(denied.status).toBe(403);
      expect(denied.body.error.code).toBe("forbidden");
      expect((await embed(id, freshAlbum("EMBO"))).status).toBe(403);
      const unknown = await embed("99999999-9999-4999-8999-999999999999", album);
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe("not_found");
    });
  });

  describe("GET /api/v1/images/:id/user", () => {
    it("is {} for an image that does not record who created it", async (ctx) => {
      skipIfNone(ctx);
      const album = freshAlbum("USRN");
      const stored: Image = anImage({ albumId: album as Image["albumId"], createdBy: null });
      const inserted = await t.deps.images.insert(stored)();
      if (E.isLeft(inserted)) throw new Error(inserted.left.message);
      const r = await userOf(stored.id, album);
      expect(r.status).toBe(200);
      expect(r.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(r.headers["x-token"]).toBeDefined();
      expect(r.text).toBe("{}");
    });

    it("is the uploader's user_id, and a copy's is the user who duplicated it", async (ctx) => {
      skipIfNone(ctx);
      const album = freshAlbum("USR");
      const uploader = "0b9c1f0e-6a51-4c1a-9d4e-7f1c2a3b4c5d";
      const duplicator = "7e2d9a41-83b0-4f6c-a1d2-5b6c7d8e9f00";
      const source = await uploaded(t, { album, token: await t.token(["image_upload"], album, { user_id: uploader }) });
      const r = await userOf(source.id, album);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ user_id: uploader });

      const dup = await t
        .http()
        .post(`/api/v1/images/${source.id}/duplicate`)
        .set("Authorization", t.auth(await t.token(["image_duplicate"], album, { user_id: duplicator })))
        .type("form")
        .send("");
      expect(dup.status).toBe(200);
      expect((await userOf(dup.body.id, album)).body).toEqual({ user_id: duplicator });
      expect((await userOf(source.id, album)).body).toEqual({ user_id: uploader });
    });

    it("is {} for an image uploaded with a token that carries no user_id", async (ctx) => {
      skipIfNone(ctx);
      const album = freshAlbum("USRA");
      const source = await uploaded(t, { album, token: await t.token(["image_upload"], album, { user_id: undefined }) });
      expect((await userOf(source.id, album)).body).toEqual({});
    });

    it("needs image_list on the image's album; an unknown id is not found", async (ctx) => {
      skipIfNone(ctx);
      const album = freshAlbum("USRF");
      const { id } = await uploaded(t, { album });
      const denied = await userOf(id, album, ["image_upload"]);
      expect(denied.status).toBe(403);
      expect(denied.body.error.code).toBe("forbidden");
      expect((await userOf("99999999-9999-4999-8999-999999999999", album)).status).toBe(404);
    });
  });
});
