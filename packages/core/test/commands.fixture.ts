import * as TE from "fp-ts/lib/TaskEither.js";
import { memoryBlobStore, memoryImageRepository } from "@image-api/adapters";
import { anImage, manualClock, sequentialIds } from "@image-api/testkit";
import type { Ability, BlobStore, Claims, Image, ImageInspector, ImageRenderer, ImageRepository, UrlSigner } from "../src/index.js";
import { renditionName, streamOf, unsupported } from "../src/index.js";

export const ALBUM = "00100000123BB124";

export const caller = (abilities: readonly Ability[], album = ALBUM): Claims => ({
  exp: 4_000_000_000,
  user_id: "4ed6737b-fdec-499a-a1e2-92a027c079f6",
  abilities: { [album]: { Access: Object.fromEntries(abilities.map((a) => [a, true])) } },
});

/** An inspector that accepts bytes starting with "IMG" and describes them as a 48×48 PNG. */
export const fakeInspector: ImageInspector = {
  inspect: (bytes) =>
    bytes[0] === 0x49 && bytes[1] === 0x4d && bytes[2] === 0x47
      ? TE.right({ format: "png", contentType: "image/png", width: 48, height: 48, etag: "e".repeat(32), color: "#7D7D7D", exifs: {}, takenAt: null, gps: null })
      : TE.left(unsupported("file is not a supported image")),
};

/** A renderer that writes the rendition's name, so tests can see what was rendered. */
export const fakeRenderer = (): ImageRenderer & { calls: number } => {
  const r = {
    calls: 0,
    render: (_original: Uint8Array, rendition: Parameters<ImageRenderer["render"]>[1]) => {
      r.calls += 1;
      return TE.right({ bytes: new TextEncoder().encode(renditionName(rendition)), contentType: "image/png" });
    },
  };
  return r;
};

/** A signer whose URLs are the JSON of the target; anything that does not parse is Forbidden. */
export const jsonSigner: UrlSigner = {
  sign: (target) => async () => `json:${JSON.stringify(target)}`,
  verify: (url) => {
    try {
      return { _tag: "Right", right: JSON.parse(url.slice(5)) };
    } catch {
      return { _tag: "Left", left: { _tag: "Forbidden", message: "bad url" } };
    }
  },
};

export const world = () => {
  const images: ImageRepository = memoryImageRepository();
  const blobs: BlobStore = memoryBlobStore();
  const clock = manualClock(new Date("2026-03-01T10:00:00.000Z"));
  const ids = sequentialIds();
  const renderer = fakeRenderer();
  return { images, blobs, clock, ids, renderer, inspector: fakeInspector, signer: jsonSigner, maxUploadBytes: 1000 };
};

/** Stores an image and its blob the way an upload would. */
export const seeded = async (w: ReturnType<typeof world>, overrides: Partial<Image> = {}): Promise<Image> => {
  const image = anImage({ albumId: ALBUM as Image["albumId"], ...overrides });
  await w.blobs.put(image.blob.key, streamOf(new TextEncoder().encode("IMG-bytes")), "image/png")();
  const inserted = await w.images.insert(image)();
  if (inserted._tag === "Left") throw new Error(inserted.left.message);
  return image;
};
