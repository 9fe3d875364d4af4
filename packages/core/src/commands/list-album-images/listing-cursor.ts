import * as E from "fp-ts/lib/Either.js";
import type { ListingPosition } from "../../ports/image-repository.port.js";
import { invalidField, type Invalid } from "../../shared/errors.js";
import { ImageId } from "../../shared/ids.js";

/**
 * Where a keyset page of a listing starts: `after` an image (the page holds the images just older
 * than it: a `next` link) or `before` one (the images just newer: a `prev` link).
 *
 * On the wire it is opaque to clients: base64url, unpadded, of `a.<created_at ms>.<id>` or
 * `b.<created_at ms>.<id>`. It carries a position and nothing else, so it is neither secret nor
 * signed: a forged one can only move within what the request is scoped to anyway (its tenant and
 * album). Decoding is strict all the same, so a cut or altered cursor is refused rather than guessed at.
 */
export interface ListingCursor {
  readonly direction: "after" | "before";
  readonly position: ListingPosition;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z: what a stored timestamp can be. */
const EARLIEST = -62_167_219_200_000;
const LATEST = 253_402_300_799_999;
/** The longest cursor this module writes is 76 characters. */
const MAX_LENGTH = 96;
const WIRE = /^([ab])\.(0|-?[1-9][0-9]{0,14})\.([0-9A-Fa-f-]{36})$/;

/** Base64url without padding of a string of 8-bit characters. */
const toBase64Url = (text: string): string => {
  let out = "";
  for (let i = 0; i < text.length; i += 3) {
    const n = (text.charCodeAt(i) << 16) | ((text.charCodeAt(i + 1) || 0) << 8) | (text.charCodeAt(i + 2) || 0);
    const chars = Math.min(text.length - i, 3) + 1;
    for (let c = 0; c < chars; c++) out += ALPHABET.charAt((n >> (18 - 6 * c)) & 63);
  }
  return out;
};

/** The 8-bit string `text` encodes, or null unless it is the canonical base64url (no padding, no stray bits) of one. */
const fromBase64Url = (text: string): string | null => {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  let out = "";
  for (let i = 0; i < text.length; i += 4) {
    const group = text.slice(i, i + 4);
    let n = 0;
    for (let c = 0; c < 4; c++) n = (n << 6) | (c < group.length ? ALPHABET.indexOf(group.charAt(c)) : 0);
    for (let b = 0; b < group.length - 1; b++) out += String.fromCharCode((n >> (16 - 8 * b)) & 255);
  }
  return toBase64Url(out) === text ? out : null;
};

export const encodeListingCursor = ({ direction, position }: ListingCursor): string =>
  toBase64Url(`${direction === "after" ? "a" : "b"}.${position.createdAt.getTime()}.${position.id}`);

const refused = (message: string): E.Either<Invalid, never> => E.left(invalidField("cursor", message));
const NOT_OURS = "is not a cursor of this listing: pass on the one a Link header gave, unchanged";

/** The cursor a client sent back, or Invalid (field `cursor`) unless it is exactly one `encodeListingCursor` can write. */
export const decodeListingCursor = (text: unknown): E.Either<Invalid, ListingCursor> => {
  if (typeof text !== "string") return refused("must be a string");
  if (text.length === 0 || text.length > MAX_LENGTH) return refused(NOT_OURS);
  const decoded = fromBase64Url(text);
  const parts = decoded === null ? null : WIRE.exec(decoded);
  if (!parts) return refused(NOT_OURS);
  const [, tag, ms, id] = parts;
  const time = Number(ms);
  if (!ImageId.is(id) || !(time >= EARLIEST && time <= LATEST)) return refused(NOT_OURS);
  return E.right({ direction: tag === "a" ? "after" : "before", position: { createdAt: new Date(time), id } });
};

/** Where `image` sits in a listing. */
export const positionOf = (image: ListingPosition): ListingPosition => ({ createdAt: image.createdAt, id: image.id });
