// Embedding the core: upload an image and duplicate it with in-process adapters, no HTTP.
// Run from the repository: npx tsx --conditions=@image-api/source examples/embed-core.ts
import { randomUUID } from "node:crypto";
import { duplicateImage, uploadImage, type Claims } from "@image-api/core";
import { memoryBlobStore, memoryImageRepository, sharpImageInspector } from "@image-api/adapters"; // or your own ports
import { solidPng } from "@image-api/testkit"; // any PNG, JPEG, GIF or WebP bytes will do

const images = memoryImageRepository();
const ids = { uuid: () => randomUUID() };
const clock = { now: () => new Date() };

// Who is asking: the claims a verified token carries (exp and iat in seconds).
const now = Math.floor(Date.now() / 1000);
const claims: Claims = {
  exp: now + 3600,
  iat: now,
  user_id: "4ed6737b-fdec-499a-a1e2-92a027c079f6",
  abilities: { "demo-album": { Access: { image_upload: true, image_duplicate: true } } },
};

const upload = uploadImage({ images, blobs: memoryBlobStore(), inspector: sharpImageInspector(), ids, clock, maxUploadBytes: 50 * 1024 * 1024 });
const duplicate = duplicateImage({ images, ids, clock });

const png = await solidPng(64, 48);
const uploaded = await upload(claims, { albumId: "demo-album", bytes: png, filename: "square.png" })();
if (uploaded._tag === "Left") throw new Error(`upload refused: ${uploaded.left._tag}`);

// Either<NotFound | Forbidden | Conflict | Unavailable, Image>
const copy = await duplicate(claims, uploaded.right.id)();
if (copy._tag === "Left") throw new Error(`duplicate refused: ${copy.left._tag}`);
console.log(JSON.stringify({ source: uploaded.right.id, copy: copy.right.id, groupId: copy.right.groupId, albumId: copy.right.albumId }));
