import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_TENANT,
  collect,
  deleteImage,
  deliverRendition,
  inDoubt,
  RESERVATION_GRACE_MS,
  unavailable,
  duplicateImage,
  getImage,
  listAlbumImages,
  releaseOrphanedBlobs,
  renditionOf,
  updateImage,
  uploadImage,
  type ImageRepository,
} from "../src/index.js";
import { ALBUM, caller, seeded, world } from "./commands.fixture.js";

const run = <E, A>(te: TE.TaskEither<E, A>) => te();
const tagOf = (e: E.Either<{ _tag: string }, unknown>) => (E.isLeft(e) ? e.left._tag : "Right");

describe("DuplicateImage", () => {
  it("copies the row, shares the blob and roots the group at the original", async () => {
    const w = world();
    const source = await seeded(w);
    w.clock.advance(5_000);
    const dup = await run(duplicateImage(w)(caller(["image_duplicate"]), source.id));
    if (E.isLeft(dup)) throw new Error(dup.left.message);
    expect(dup.right).toMatchObject({ albumId: source.albumId, groupId: source.id, blob: source.blob, createdAt: w.clock.now() });
    expect(dup.right.id).not.toBe(source.id);
    expect(await run(w.images.blobReferences(source.blob.key))).toEqual(E.right(2));
    const again = await run(duplicateImage(w)(caller(["image_duplicate"]), dup.right.id));
    expect(E.isRight(again) && again.right.groupId).toBe(source.id);
  });

  it.each([
    ["not a uuid", "NotFound", ["image_duplicate"]],
    ["99999999-9999-4999-8999-999999999999", "NotFound", ["image_duplicate"]],
  ] as const)("%s → %s", async (id, tag, abilities) => {
    const w = world();
    expect(tagOf(await run(duplicateImage(w)(caller(abilities), id)))).toBe(tag);
  });

  it("needs image_duplicate on the image's album", async () => {
    const w = world();
    const source = await seeded(w);
    for (const c of [caller(["image_list"]), caller(["image_duplicate"], "OTHER"), { exp: 4e9, abilities: { [ALBUM]: { Access: { image_duplicate: false } } } }]) {
      expect(tagOf(await run(duplicateImage(w)(c, source.id)))).toBe("Forbidden");
    }
    expect(await run(w.images.blobReferences(source.blob.key))).toEqual(E.right(1));
  });
});

describe("DeleteImage", () => {
  it("deletes the bytes only with the last image that references them", async () => {
    const w = world();
    const source = await seeded(w);
    const dup = await run(duplicateImage(w)(caller(["image_duplicate"]), source.id));
    const all = caller(["image_delete", "image_list"]);
    expect(tagOf(await run(deleteImage(w)(all, source.id)))).toBe("Right");
    expect(await run(w.blobs.exists(source.blob.key))).toEqual(E.right(true));
    expect(E.isRight(dup) && tagOf(await run(getImage(w)(all, dup.right.id)))).toBe("Right");
    expect(E.isRight(dup) && tagOf(await run(deleteImage(w)(all, dup.right.id)))).toBe("Right");
    expect(await run(w.blobs.exists(source.blob.key))).toEqual(E.right(false));
    expect(await run(w.images.orphanedBlobs())).toEqual(E.right([]));
  });

  it("keeps a zero-reference record when the bytes cannot be deleted, and a sweep finishes the job", async () => {
    const w = world();
    const source = await seeded(w);
    const failing = { ...w.blobs, delete: () => TE.left({ _tag: "Unavailable" as const, message: "down" }) };
    expect(tagOf(await run(deleteImage({ ...w, blobs: failing })(caller(["image_delete"]), source.id)))).toBe("Right");
    expect(await run(w.images.orphanedBlobs())).toEqual(E.right([source.blob.key]));
    expect(await run(releaseOrphanedBlobs(w))).toEqual(E.right(1));
    expect(await run(w.blobs.exists(source.blob.key))).toEqual(E.right(false));
  });

  it("refuses without image_delete and leaves the image", async () => {
    const w = world();
    const source = await seeded(w);
    expect(tagOf(await run(deleteImage(w)(caller(["image_list"]), source.id)))).toBe("Forbidden");
    expect(tagOf(await run(w.images.findById(DEFAULT_TENANT, source.id)))).toBe("Right");
  });
});

describe("UpdateImage", () => {
  it("needs the ability of each aspect that changes", async () => {
    const w = world();
    const source = await seeded(w);
    const crop = { x: 3, y: 2, w: 10, h: 11 };
    // Re-sending the current rotation with a crop needs image_crop only (the family's crop call).
    const cropped = await run(updateImage(w)(caller(["image_crop"]), source.id, { rotation: 0, crop }));
    expect(E.isRight(cropped) && cropped.right).toMatchObject({ crop, rotation: 0, version: 2 });
    expect(tagOf(await run(updateImage(w)(caller(["image_crop"]), source.id, { rotation: 90, crop })))).toBe("Forbidden");
    expect(tagOf(await run(updateImage(w)(caller(["image_caption"]), source.id, { rotation: 90 })))).toBe("Forbidden");
    expect(tagOf(await run(updateImage(w)(caller(["image_rotate", "image_crop"]), source.id, { rotation: 90, crop })))).toBe("Right");
  });

  it("refuses invalid or empty changes before touching anything", async () => {
    const w = world();
    const source = await seeded(w);
    expect(tagOf(await run(updateImage(w)(caller(["image_rotate"]), source.id, {})))).toBe("Invalid");
    expect(tagOf(await run(updateImage(w)(caller(["image_rotate"]), source.id, { rotation: 45 })))).toBe("Invalid");
    expect(await run(w.images.findById(DEFAULT_TENANT, source.id))).toEqual(E.right(source));
  });

  it("retries when another update won the race", async () => {
    const w = world();
    const source = await seeded(w);
    let raced = false;
    const racing: ImageRepository = {
      ...w.images,
      update: (image, expected) =>
        raced
          ? w.images.update(image, expected)
          : async () => {
              raced = true;
              await w.images.update({ ...source, title: "theirs" }, source.version)();
              return w.images.update(image, expected)();
            },
    };
    const result = await run(updateImage({ ...w, images: racing })(caller(["image_rotate"]), source.id, { rotation: 90 }));
    expect(E.isRight(result) && result.right).toMatchObject({ title: "theirs", rotation: 90, version: 3 });
  });
});

describe("UploadImage", () => {
  const file = new TextEncoder().encode("IMG: fake bytes");

  it("stores bytes and row with the inspection's facts", async () => {
    const w = world();
    const up = await run(uploadImage(w)(caller(["image_upload"]), { albumId: ALBUM, bytes: file, filename: "dir/Super Image.png", metadatas: { meta: "data" } }));
    if (E.isLeft(up)) throw new Error(up.left.message);
    expect(up.right).toMatchObject({ filename: "Super Image", color: "#7D7D7D", metadatas: { meta: "data" }, groupId: null });
    expect(up.right.infos).toMatchObject({ bytes: file.byteLength, format: "png", tags: [ALBUM], type: "authenticated", original_filename: "Super Image" });
    const stored = await run(w.blobs.get(up.right.blob.key));
    expect(E.isRight(stored) && (await collect(stored.right.body))).toEqual(file);
  });

  it.each([
    [{ bytes: new TextEncoder().encode("plain text") }, "Unsupported"],
    [{ bytes: new Uint8Array(0) }, "Invalid"],
    [{ bytes: new Uint8Array(1001).fill(0x49) }, "TooLarge"],
    [{ title: "x".repeat(300) }, "Invalid"],
    [{ albumId: "bad album!" }, "NotFound"],
    [{ location: { latitude: 91, longitude: 0, accuracy: null } }, "Invalid"],
  ])("refuses %j with %s and stores nothing", async (override, tag) => {
    const w = world();
    const result = await run(uploadImage(w)(caller(["image_upload"]), { albumId: ALBUM, bytes: file, filename: "a.png", ...override }));
    expect(tagOf(result)).toBe(tag);
    expect(await run(w.images.listByAlbum(DEFAULT_TENANT, ALBUM as never, { offset: 0, limit: 10 }))).toEqual(E.right({ items: [], total: 0 }));
  });

  it("keeps the bytes and answers with the image when the insert committed but its reply was lost", async () => {
    const w = world();
    const replyLost: ImageRepository["insert"] = (i) =>
      pipe(
        w.images.insert(i),
        TE.chainW(() => TE.left(inDoubt("reply lost"))),
      );
    const images = { ...w.images, insert: replyLost };
    const result = await run(uploadImage({ ...w, images })(caller(["image_upload"]), { albumId: ALBUM, bytes: file, filename: "a.png" }));
    if (E.isLeft(result)) throw new Error(result.left.message);
    expect(await run(w.blobs.exists(result.right.blob.key))).toEqual(E.right(true));
    expect(await run(w.images.blobReferences(result.right.blob.key))).toEqual(E.right(1));
  });

  it("keeps the bytes when it cannot tell whether the row was written", async () => {
    const w = world();
    const down = () => TE.left(inDoubt("db down"));
    const images = { ...w.images, insert: down, abandonBlob: down };
    const result = await run(uploadImage({ ...w, images })(caller(["image_upload"]), { albumId: ALBUM, bytes: file, filename: "a.png" }));
    expect(tagOf(result)).toBe("Unavailable");
    const key = "00000000-0000-4000-8000-000000000002";
    expect(await run(w.blobs.exists(key as never))).toEqual(E.right(true));
    // The reservation stays, so the sweep deletes the bytes once the grace period is over.
    expect(await run(w.images.orphanedBlobs())).toEqual(E.right([]));
    w.clock.advance(RESERVATION_GRACE_MS + 1);
    expect(await run(releaseOrphanedBlobs(w))).toEqual(E.right(1));
    expect(await run(w.blobs.exists(key as never))).toEqual(E.right(false));
  });

  it("writes no bytes when the blob cannot even be reserved", async () => {
    const w = world();
    const written: string[] = [];
    const blobs = { ...w.blobs, put: (...args: Parameters<typeof w.blobs.put>) => (written.push(args[0]), w.blobs.put(...args)) };
    const images = { ...w.images, reserveBlob: () => TE.left(unavailable("db down")) };
    const result = await run(uploadImage({ ...w, blobs, images })(caller(["image_upload"]), { albumId: ALBUM, bytes: file, filename: "a.png" }));
    expect(tagOf(result)).toBe("Unavailable");
    expect(written).toEqual([]);
  });

  it("forgets the reservation when the bytes cannot be written", async () => {
    const w = world();
    const blobs = { ...w.blobs, put: () => TE.left(unavailable("disk full")) };
    const result = await run(uploadImage({ ...w, blobs })(caller(["image_upload"]), { albumId: ALBUM, bytes: file, filename: "a.png" }));
    expect(tagOf(result)).toBe("Unavailable");
    expect(await run(w.images.orphanedBlobs(new Date(8.64e15)))).toEqual(E.right([]));
  });

  it("removes the stored bytes when the row cannot be written", async () => {
    const w = world();
    const images = { ...w.images, insert: () => TE.left({ _tag: "Unavailable" as const, message: "db down" }) };
    const result = await run(uploadImage({ ...w, images })(caller(["image_upload"]), { albumId: ALBUM, bytes: file, filename: "a.png" }));
    expect(tagOf(result)).toBe("Unavailable");
    expect(await run(w.blobs.exists("00000000-0000-4000-8000-000000000002" as never))).toEqual(E.right(false));
  });
});

describe("ListAlbumImages", () => {
  it("pages newest first and hides albums the caller cannot list", async () => {
    const w = world();
    for (let i = 0; i < 5; i++) {
      await seeded(w, { createdAt: new Date(Date.UTC(2026, 0, 1 + i)) });
    }
    const page = await run(listAlbumImages(w)(caller(["image_list"]), { albumId: ALBUM, page: 2, perPage: 2 }));
    expect(E.isRight(page) && page.right.items.map((i) => i.createdAt.getUTCDate())).toEqual([3, 2]);
    expect(E.isRight(page) && page.right.total).toBe(5);
    expect(await run(listAlbumImages(w)(caller([]), { albumId: ALBUM, page: 1, perPage: 2 }))).toEqual(E.right({ items: [], total: 0 }));
    expect(tagOf(await run(listAlbumImages(w)(caller(["image_list"]), { albumId: ALBUM, page: 1, perPage: 501 })))).toBe("Invalid");
    expect(tagOf(await run(listAlbumImages(w)(caller(["image_list"]), { albumId: ALBUM, page: 0, perPage: 5 })))).toBe("Invalid");
  });
});

describe("DeliverRendition", () => {
  it("serves stored bytes as they are and renders derived ones once", async () => {
    const w = world();
    const image = await seeded(w, { rotation: 90 });
    const target = (variant: Parameters<typeof renditionOf>[1]) =>
      `json:${JSON.stringify({ blobKey: image.blob.key, format: "png", version: 1, rendition: renditionOf(image, variant), filename: "f" })}`;
    const original = await run(deliverRendition(w)(target("download")));
    expect(E.isRight(original) && new TextDecoder().decode(await collect(original.right.body))).toBe("IMG-bytes");
    for (let i = 0; i < 3; i++) {
      const mini = await run(deliverRendition(w)(target("mini")));
      expect(E.isRight(mini) && new TextDecoder().decode(await collect(mini.right.body))).toBe("a_90/c_fit,h_1920,w_1920/c_fill,h_100,w_100/fl_attachment");
    }
    expect(w.renderer.calls).toBe(1);
    expect(tagOf(await run(deliverRendition(w)("garbage")))).toBe("Forbidden");
  });
});
