import { createHmac, timingSafeEqual, type KeyObject } from "node:crypto";

/**
 * HS256 compact JWS (RFC 7515) with node:crypto, synchronously. Only what the family's tokens use:
 * one algorithm, no unprotected header, no extensions.
 */

/** The family's header, key order included, so re-issued tokens look like the ones callers send. */
const HS256_HEADER = '{"typ":"JWT","alg":"HS256"}';
const ENCODED_HEADER = Buffer.from(HS256_HEADER, "utf8").toString("base64url");

const SIGNATURE_BYTES = 32;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Strict base64url: the URL-safe alphabet, no padding, and no stray bits in a partial last group
 * (which would let several texts stand for the same bytes). Buffer's own decoder skips what it does
 * not understand, so the form is checked first.
 */
export const decodeBase64url = (segment: string): Buffer | undefined => {
  if (!BASE64URL.test(segment)) return undefined;
  const partial = segment.length % 4;
  if (partial === 1) return undefined;
  // A last group of 2 characters carries 8 bits of 12, of 3 characters 16 of 18: the rest must be zero.
  if (partial !== 0 && (ALPHABET.indexOf(segment[segment.length - 1]!) & (partial === 2 ? 0b1111 : 0b11)) !== 0) return undefined;
  return Buffer.from(segment, "base64url");
};

/** A segment holding a top-level JSON object in UTF-8, or undefined (bad base64url, arrays, scalars, invalid UTF-8 or JSON). */
export const decodeJsonSegment = (segment: string): Record<string, unknown> | undefined => {
  const bytes = decodeBase64url(segment);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(utf8.decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

const FAMILY_HEADER: Readonly<Record<string, unknown>> = Object.freeze(JSON.parse(HS256_HEADER) as Record<string, unknown>);

/** A JOSE header segment; the family's own, which nearly every token carries, is known without decoding it. */
export const decodeHeaderSegment = (segment: string): Readonly<Record<string, unknown>> | undefined =>
  segment === ENCODED_HEADER ? FAMILY_HEADER : decodeJsonSegment(segment);

/** The three segments of a compact JWS, or undefined when there are not exactly three. */
export const splitCompactJws = (token: string): readonly [header: string, payload: string, signature: string] | undefined => {
  const first = token.indexOf(".");
  const second = first < 0 ? -1 : token.indexOf(".", first + 1);
  if (second < 0 || token.indexOf(".", second + 1) >= 0) return undefined;
  return [token.slice(0, first), token.slice(first + 1, second), token.slice(second + 1)];
};

const mac = (key: KeyObject, signingInput: string): Buffer => createHmac("sha256", key).update(signingInput, "utf8").digest();

/** Whether one of `keys` made `signature` over `signingInput`; compared in constant time. */
export const signedByOneOf = (keys: readonly KeyObject[], signingInput: string, signature: Buffer): boolean =>
  signature.length === SIGNATURE_BYTES && keys.some((key) => timingSafeEqual(mac(key, signingInput), signature));

/** `payloadJson` signed with the family's header. */
export const signHs256 = (key: KeyObject, payloadJson: string): string => {
  const signingInput = `${ENCODED_HEADER}.${Buffer.from(payloadJson, "utf8").toString("base64url")}`;
  return `${signingInput}.${createHmac("sha256", key).update(signingInput, "utf8").digest("base64url")}`;
};
