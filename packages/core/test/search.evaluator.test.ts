import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { anImage } from "@image-api/testkit";
import {
  foldText,
  matchesQuery,
  parseQuery,
  searchDocument,
  searchMatcher,
  wordsOf,
  type AlbumId,
  type Image,
  type SearchQuery,
} from "../src/index.js";

const q = (text: string): SearchQuery => {
  const r = parseQuery(text);
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};
const v1 = (image: Image, query: string) => matchesQuery(image, q(query), { substringFilename: false });
const v2 = (image: Image, query: string) => matchesQuery(image, q(query), { substringFilename: true });

const ALBUM = "00100000123BB124" as AlbumId;
const cafe = anImage({
  albumId: ALBUM,
  title: "Le Café de Flore",
  description: "A big cat sleeps on the terrace.",
  filename: "superplophey.jpg",
  infos: { tags: [ALBUM, "Summer Trip"] },
  metadatas: { Colour: "Dark Red", "shot.lens": { focal: "50 mm", aperture: 1.8 }, notes: ["big", "cat"], "free text": "Ünique" },
  blob: { ...anImage().blob, format: "PNG" },
});

describe("search normalisation", () => {
  it("folds case and accents, keeping other characters", () => {
    expect(foldText("Café ÉCOLE Ørsted naïve İstanbul")).toBe("cafe ecole ørsted naive istanbul");
    expect(foldText("Ｃafé-42_x")).toBe("ｃafe-42_x");
  });

  it("splits words on anything but letters and digits, in any script", () => {
    expect(wordsOf("IMG_0042.JPG")).toEqual(["img", "0042", "jpg"]);
    expect(wordsOf("  Crème brûlée — 東京タワー, Москва!")).toEqual(["creme", "brulee", "東京タワー", "москва"]);
    expect(wordsOf("...")).toEqual([]);
  });
});

describe("searchDocument", () => {
  it("stores folded words, field-qualified words, whole values and one line per value", () => {
    const doc = searchDocument(
      anImage({
        albumId: ALBUM,
        title: "Café",
        description: null,
        filename: "Plop-Hey.JPG",
        infos: { tags: [ALBUM, 7] },
        metadatas: { Colour: ["Dark Red", null], "two words": "x", nested: { deep: true } },
        blob: { ...anImage().blob, format: "JPEG" },
      }),
    );
    expect(doc.lexemes).toEqual(
      [
        "cafe",
        "title:cafe",
        "plop",
        "hey",
        "jpg",
        "filename:plop",
        "filename:hey",
        "filename:jpg",
        "00100000123bb124",
        "tag:00100000123bb124",
        "7",
        "tag:7",
        "dark",
        "red",
        "meta.colour:dark",
        "meta.colour:red",
        "x",
        "true",
        "meta.nested:true",
        "format:jpeg",
        "album_id:00100000123BB124",
      ].sort(),
    );
    expect(doc.text).toBe(
      [
        "title\t cafe ",
        "filename\t plop hey jpg ",
        "tag\t 00100000123bb124 ",
        "tag\t 7 ",
        "meta.colour\t dark red ",
        // A key no query can name (it has a space) is searched unfielded only.
        "meta\t x ",
        "meta.nested\t true ",
      ].join("\n"),
    );
    expect(doc.filename).toBe("plop-hey.jpg");
  });

  it("is the same for equal images", () => {
    expect(searchDocument(cafe)).toEqual(searchDocument({ ...cafe, metadatas: JSON.parse(JSON.stringify(cafe.metadatas)) }));
  });
});

describe("matchesQuery", () => {
  it("matches everything with *", () => {
    expect(v1(anImage({ filename: "x" }), "*")).toBe(true);
  });

  it("matches whole words, whatever their case and accents", () => {
    expect(v1(cafe, "cafe")).toBe(true);
    expect(v1(cafe, "CAFÉ")).toBe(true);
    expect(v1(cafe, "flore")).toBe(true);
    expect(v1(cafe, "caf")).toBe(false);
    expect(v1(cafe, "cafes")).toBe(false);
    expect(v1(cafe, "unique")).toBe(true);
  });

  it("searches title, description, filename, tags and metadatas values when unfielded, but not format", () => {
    expect(v1(cafe, "terrace")).toBe(true);
    expect(v1(cafe, "superplophey")).toBe(true);
    expect(v1(cafe, "summer")).toBe(true);
    expect(v1(cafe, "00100000123bb124")).toBe(true);
    expect(v1(cafe, "dark")).toBe(true);
    expect(v1(cafe, "50")).toBe(true);
    expect(v1(cafe, "png")).toBe(false);
  });

  it("needs every bare term (AND), and any side of an OR", () => {
    expect(v1(cafe, "cat terrace")).toBe(true);
    expect(v1(cafe, "cat dog")).toBe(false);
    expect(v1(cafe, "cat OR dog")).toBe(true);
    expect(v1(cafe, "dog OR wolf")).toBe(false);
    expect(v1(cafe, "dog OR wolf cat")).toBe(false);
    expect(v1(cafe, "(dog OR terrace) cat")).toBe(true);
  });

  it("negates with NOT and -", () => {
    expect(v1(cafe, "NOT dog")).toBe(true);
    expect(v1(cafe, "-cat")).toBe(false);
    expect(v1(cafe, 'cat -"small cat"')).toBe(true);
    expect(v1(cafe, '-"big cat"')).toBe(false);
    expect(v1(cafe, "-title:cat")).toBe(true);
    expect(v1(cafe, "* -format:png")).toBe(false);
  });

  it("matches phrases as consecutive words within one value", () => {
    expect(v1(cafe, '"big cat"')).toBe(true);
    expect(v1(cafe, '"BIG  CAT sleeps"')).toBe(true);
    expect(v1(cafe, '"cat big"')).toBe(false);
    expect(v1(cafe, '"big sleeps"')).toBe(false);
    // Not across two values: the title ends with "flore", the description starts with "a".
    expect(v1(cafe, '"flore a"')).toBe(false);
    // Nor across two leaves of one metadatas value.
    expect(v1(cafe, 'metadatas.notes:"big cat"')).toBe(false);
    expect(v1(cafe, '"dark red"')).toBe(true);
  });

  it("reads a term with punctuation as the phrase of its words", () => {
    const img = anImage({ filename: "IMG_0042.jpg", title: "0042 img" });
    expect(v1(img, "IMG_0042.jpg")).toBe(true);
    expect(v1(img, "filename:img-0042")).toBe(true);
    expect(v1(img, "title:img_0042")).toBe(false);
  });

  it("restricts fielded terms and phrases to their field", () => {
    expect(v1(cafe, "title:cafe")).toBe(true);
    expect(v1(cafe, "description:cafe")).toBe(false);
    expect(v1(cafe, 'description:"big cat"')).toBe(true);
    expect(v1(cafe, 'title:"big cat"')).toBe(false);
    expect(v1(cafe, "filename:jpg")).toBe(true);
    expect(v1(cafe, "title:jpg")).toBe(false);
  });

  it("matches a whole tag, folded; album_id exactly; format ignoring case", () => {
    expect(v1(cafe, 'tag:"summer trip"')).toBe(true);
    expect(v1(cafe, "tag:summer-trip")).toBe(true);
    expect(v1(cafe, "tag:summer")).toBe(false);
    expect(v1(cafe, "tag:00100000123bb124")).toBe(true);
    expect(v1(cafe, "album_id:00100000123BB124")).toBe(true);
    expect(v1(cafe, "album_id:00100000123bb124")).toBe(false);
    expect(v1(cafe, "album_id:00100000123BB12")).toBe(false);
    expect(v1(cafe, "format:png")).toBe(true);
    expect(v1(cafe, "format:PNG")).toBe(true);
    expect(v1(cafe, "format:jpg")).toBe(false);
  });

  it("matches metadatas.<key> on that key's values, key folded, nested values included", () => {
    expect(v1(cafe, "metadatas.colour:red")).toBe(true);
    expect(v1(cafe, "metadatas.COLOUR:rouge OR metadatas.Colour:RED")).toBe(true);
    expect(v1(cafe, "metadatas.color:red")).toBe(false);
    expect(v1(cafe, "metadatas.notes:red")).toBe(false);
    expect(v1(cafe, 'metadatas.shot.lens:"50 mm"')).toBe(true);
    expect(v1(cafe, "metadatas.shot.lens:1.8")).toBe(true);
    expect(v1(cafe, "metadatas.shot:50")).toBe(false);
    // A key with whitespace cannot be named (it is refused by the parser) but its values are searched unfielded.
    expect(E.isLeft(parseQuery("metadatas.free\\ text:unique"))).toBe(true);
    expect(v1(cafe, "unique")).toBe(true);
  });

  it("with substring filenames (version=2), lets unfielded and filename: terms match inside the filename", () => {
    expect(v1(cafe, "plop")).toBe(false);
    expect(v2(cafe, "plop")).toBe(true);
    expect(v2(cafe, "PLÖP")).toBe(true);
    expect(v2(cafe, "filename:lophe")).toBe(true);
    expect(v2(cafe, "plophey.jp")).toBe(true);
    expect(v2(cafe, "-plop")).toBe(false);
    // Other fields, and phrases, still match whole words only.
    expect(v2(cafe, "title:plop")).toBe(false);
    expect(v2(cafe, "errac")).toBe(false);
    expect(v2(cafe, '"plop"')).toBe(false);
    expect(v2(cafe, "cafe")).toBe(true);
  });

  it("treats LIKE and regex characters in values literally", () => {
    const img = anImage({ filename: "100%_off (final).png" });
    expect(v2(img, "0%_o")).toBe(true);
    expect(v2(img, "0%xo")).toBe(false);
    expect(v2(img, "\\(final\\).png")).toBe(true);
  });

  it("reuses one plan across images with searchMatcher", () => {
    const matches = searchMatcher(q("cat -dog"), { substringFilename: false });
    const images = [cafe, anImage({ title: "cat and dog" }), anImage({ title: "dog" }), anImage({ title: "a cat" })];
    expect(images.map(matches)).toEqual([true, false, false, true]);
  });
});
