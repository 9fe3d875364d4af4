import * as E from "fp-ts/lib/Either.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_TENANT,
  duplicateImage,
  forbidden,
  invalidField,
  registerUpload,
  type BlobKey,
  type ExternalAsset,
  type ExternalUploadVerifier,
  type JsonObject,
} from "../src/index.js";
import { ALBUM, caller, world } from "./commands.fixture.js";

const run = <E, A>(te: TE.TaskEither<E, A>) => te();
const tagOf = (e: E.Either<{ _tag: string }, unknown>) => (E.isLeft(e) ? e.left._tag : "Right");

const POSTED: JsonObject = { public_id: "client-asset-1", version: "1554745132", signature: "good", width: "295", height: "171", format: "jpg", bytes: "10668" };

const asset = (fields: JsonObject): ExternalAsset => ({
  blob: { key: String(fields.public_id) as BlobKey, format: "jpg", contentType: "image/jpeg", bytes: 10668, etag: "e".repeat(32), version: 1554745132 },
  width: 295,
  height: 171,
  exifs: { DateTimeOriginal: "2018:01:01 08:00:00" },
  takenAt: new Date("2018-01-01T08:00:00Z"),
  gps: null,
  color: "#",
  originalFilename: "holiday.jpg",
  infos: fields,
});

/** Accepts fields whose `signature` is "good", describing them with `asset`; counts its calls. */
const fakeVerifier = (): ExternalUploadVerifier & { calls: number } => {
  const v = {
    calls: 0,
    verify: (fields: JsonObject) => {
      v.calls += 1;
      if (fields.signature !== "good") return TE.left(forbidden("upload response signature does not match"));
      if (fields.public_id === "bad/id") return TE.left(invalidField("cloudinary[public_id]", "not a usable key"));
      return TE.right(asset(fields));
    },
  };
  return v;
};

const setup = () => {
  const w = world();
  const uploads = fakeVerifier();
  return { w, uploads, register: registerUpload({ ...w, uploads }) };
};

const albumTotal = async (w: ReturnType<typeof world>) => {
  const page = await run(w.images.listByAlbum(DEFAULT_TENANT, ALBUM as never, { offset: 0, limit: 10 }));
  return E.isRight(page) ? page.right.total : NaN;
};

describe("RegisterUpload", () => {
  it("records the verified asset as a new original image, with the posted fields as infos", async () => {
    const { w, register } = setup();
    const r = await run(register(caller(["image_upload"]), { albumId: ALBUM, upload: POSTED, metadatas: { meta: "data" }, title: " " }));
    if (E.isLeft(r)) throw new Error(r.left.message);
    expect(r.right).toMatchObject({
      albumId: ALBUM,
      groupId: null,
      blob: asset(POSTED).blob,
      originalWidth: 295,
      originalHeight: 171,
      filename: "holiday",
      infos: POSTED,
      exifs: { DateTimeOriginal: "2018:01:01 08:00:00" },
      takenAt: new Date("2018-01-01T08:00:00Z"),
      metadatas: { meta: "data" },
      gpsHtml: null,
      gpsExifs: null,
      title: null,
      color: "#",
      rotation: 0,
      crop: null,
      version: 1,
      createdAt: w.clock.now(),
    });
    expect(await run(w.images.findById(DEFAULT_TENANT, r.right.id))).toEqual(E.right(r.right));
    expect(await run(w.images.blobReferences("client-asset-1" as BlobKey))).toEqual(E.right(1));
  });

  it("lets the registered image be duplicated like an uploaded one", async () => {
    const { w, register } = setup();
    const r = await run(register(caller(["image_upload"]), { albumId: ALBUM, upload: POSTED }));
    if (E.isLeft(r)) throw new Error(r.left.message);
    const dup = await run(duplicateImage(w)(caller(["image_duplicate"]), r.right.id));
    expect(E.isRight(dup) && dup.right).toMatchObject({ groupId: r.right.id, blob: r.right.blob, infos: POSTED });
    expect(await run(w.images.blobReferences("client-asset-1" as BlobKey))).toEqual(E.right(2));
  });

  it("refuses the same asset twice with Conflict", async () => {
    const { w, register } = setup();
    expect(tagOf(await run(register(caller(["image_upload"]), { albumId: ALBUM, upload: POSTED })))).toBe("Right");
    const again = await run(register(caller(["image_upload"]), { albumId: ALBUM, upload: POSTED }));
    expect(tagOf(again)).toBe("Conflict");
    expect(E.isLeft(again) && again.left.message).toContain("client-asset-1");
    expect(await albumTotal(w)).toBe(1);
  });

  it.each([
    ["a forged signature", { upload: { ...POSTED, signature: "forged" } }, "Forbidden"],
    ["an unusable asset", { upload: { ...POSTED, public_id: "bad/id" } }, "Invalid"],
  ] as const)("refuses %s with %s and stores nothing", async (_, override, tag) => {
    const { w, register } = setup();
    expect(tagOf(await run(register(caller(["image_upload"]), { albumId: ALBUM, ...override })))).toBe(tag);
    expect(await albumTotal(w)).toBe(0);
  });

  it.each([
    ["without image_upload", caller(["image_list", "image_duplicate"]), { albumId: ALBUM }, "Forbidden"],
    ["on another album", caller(["image_upload"], "OTHER"), { albumId: ALBUM }, "Forbidden"],
    ["to a malformed album id", caller(["image_upload"]), { albumId: "bad album!" }, "NotFound"],
    ["with a title too long", caller(["image_upload"]), { albumId: ALBUM, title: "x".repeat(300) }, "Invalid"],
    ["with oversized metadatas", caller(["image_upload"]), { albumId: ALBUM, metadatas: { big: "x".repeat(70_000) } }, "Invalid"],
  ] as const)("refuses a caller %s before looking at the upload", async (_, who, input, tag) => {
    const { w, uploads, register } = setup();
    expect(tagOf(await run(register(who, { upload: POSTED, ...input })))).toBe(tag);
    expect(uploads.calls).toBe(0);
    expect(await albumTotal(w)).toBe(0);
  });

  it("reports a repository outage as Unavailable", async () => {
    const { w, uploads } = setup();
    const images = { ...w.images, insert: () => TE.left({ _tag: "Unavailable" as const, message: "db down" }) };
    expect(tagOf(await run(registerUpload({ ...w, images, uploads })(caller(["image_upload"]), { albumId: ALBUM, upload: POSTED })))).toBe("Unavailable");
  });
});
