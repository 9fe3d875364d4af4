import { createHmac, timingSafeEqual } from "node:crypto";
import { BlobKey, forbidden, parseRenditionName, renditionName, VARIANTS, type DeliveryTarget, type Forbidden, type UrlSigner, type Variant } from "@image-api/core";
import * as E from "fp-ts/lib/Either.js";
import * as T from "fp-ts/lib/Task.js";
import { remember } from "../shared/remembered.js";

export interface HmacUrlSignerOptions {
  /** Origin (and optional path prefix) the URLs point at, e.g. `https://media.example.org`. */
  readonly baseUrl: string;
  /** The first key signs; every key verifies, so a new key can be rolled out before the old one is dropped. */
  readonly keys: readonly string[];
  readonly ttlSeconds: number;
  /**
   * Expiries are rounded up to a multiple of this, so every URL for one target signed within a window is
   * the same string and caches keep hitting. A URL therefore lives between `ttl` and `ttl + window`.
   */
  readonly windowSeconds?: number;
  /**
   * How many signed URLs are remembered (10 000 by default, 0 for none). Within one expiry window a
   * target's URL is the same string, and a duplicate's targets are its source's (they share the
   * blob), so a hot image, a page shown again or a copy of a copy is signed once per window.
   */
  readonly rememberSigned?: number;
}

const MEDIA = "/media/";
const SIG = /^[A-Za-z0-9_-]{43}$/;
const EXP = /^[0-9]{1,12}$/;
const VERSION = /^v([0-9]{1,15})$/;
const FORMAT = /^[a-z0-9]{1,10}$/;

// An image's URLs are signed one after the other, all with its filename: it is encoded once.
let lastFilename = "";
let lastEncoded = "";
const encodedFilename = (filename: string): string =>
  filename === lastFilename ? lastEncoded : ((lastFilename = filename), (lastEncoded = encodeURIComponent(filename)));

/** The path that identifies a target; both what is signed and what `verify` must find again. */
export const mediaPath = (t: DeliveryTarget): string =>
  `${MEDIA}${t.rendition.variant}/${renditionName(t.rendition)}/${t.blobKey}/v${t.version}/${encodedFilename(t.filename)}.${t.format}`;

const refused = (why: string): E.Either<Forbidden, never> => E.left(forbidden(`invalid delivery URL: ${why}`));

const parsePath = (path: string): DeliveryTarget | null => {
  if (!path.startsWith(MEDIA)) return null;
  const parts = path.slice(MEDIA.length).split("/");
  if (parts.length < 5) return null;
  const [variant] = parts;
  const file = parts[parts.length - 1]!;
  const version = VERSION.exec(parts[parts.length - 2]!);
  const blobKey = parts[parts.length - 3]!;
  const name = parts.slice(1, -3).join("/");
  if (!VARIANTS.includes(variant as Variant) || !version || !BlobKey.is(blobKey)) return null;
  const rendition = parseRenditionName(variant as Variant, name);
  const dot = file.lastIndexOf(".");
  const format = file.slice(dot + 1);
  if (!rendition || dot < 0 || !FORMAT.test(format)) return null;
  let filename: string;
  try {
    filename = decodeURIComponent(file.slice(0, dot));
  } catch {
    return null;
  }
  return { blobKey, format, version: Number(version[1]), rendition, filename };
};

/**
 * Self-served delivery URLs: `<base>/media/<variant>/<rendition>/<key>/v<version>/<filename>.<format>?exp=…&sig=…`,
 * where `sig` is the HMAC-SHA256 of the path and `?exp=…`. Anything else, reordered or extra is refused.
 * The host is not signed, so a CDN or proxy in front may serve the same URL under its own name.
 */
export const hmacUrlSigner = (options: HmacUrlSignerOptions): UrlSigner => {
  const { ttlSeconds } = options;
  const windowSeconds = options.windowSeconds ?? 3600;
  if (options.keys.length === 0 || options.keys.some((k) => k.length === 0)) throw new Error("hmacUrlSigner needs at least one non-empty key");
  if (!(ttlSeconds > 0) || !(windowSeconds > 0)) throw new Error("hmacUrlSigner needs positive ttlSeconds and windowSeconds");
  const base = new URL(options.baseUrl);
  const origin = options.baseUrl.replace(/\/+$/, "");
  const prefix = base.pathname.replace(/\/+$/, "");
  const rememberSigned = options.rememberSigned ?? 10_000;
  if (!Number.isInteger(rememberSigned) || rememberSigned < 0) throw new Error("hmacUrlSigner needs a non-negative integer rememberSigned");
  const keys = options.keys.map((k) => Buffer.from(k, "utf8"));
  const mac = (key: Buffer, signed: string) => createHmac("sha256", key).update(signed, "utf8").digest();
  // URLs by the text they sign, oldest first out. The key and origin never change, so neither can the URL.
  const signedUrls = new Map<string, string>();

  const sign = (target: DeliveryTarget, now: Date): T.Task<string> => {
    const exp = Math.ceil((Math.floor(now.getTime() / 1000) + ttlSeconds) / windowSeconds) * windowSeconds;
    const signed = `${mediaPath(target)}?exp=${exp}`;
    const url =
      signedUrls.get(signed) ??
      remember(signedUrls, signed, `${origin}${signed}&sig=${createHmac("sha256", keys[0]!).update(signed, "utf8").digest("base64url")}`, rememberSigned);
    return T.of(url);
  };

  const verify = (url: string, now: Date): E.Either<Forbidden, DeliveryTarget> => {
    // The raw text is checked, not a parsed URL: parsers normalise, and the signature is over exact bytes.
    let rest = url.replace(/#.*$/, "");
    const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i.exec(rest);
    if (scheme) rest = rest.slice(scheme[0].length);
    if (prefix !== "" && rest.startsWith(`${prefix}/`)) rest = rest.slice(prefix.length);
    const q = rest.indexOf("?");
    if (q < 0) return refused("not signed");
    const path = rest.slice(0, q);
    const params = rest.slice(q + 1).split("&");
    if (params.length !== 2 || !params[0]!.startsWith("exp=") || !params[1]!.startsWith("sig=")) return refused("unexpected query");
    const exp = params[0]!.slice(4);
    const sig = params[1]!.slice(4);
    if (!EXP.test(exp) || !SIG.test(sig)) return refused("malformed signature");
    const target = parsePath(path);
    // The path must be exactly the canonical one: equal targets then mean equal signed text.
    if (!target || mediaPath(target) !== path) return refused("unknown path");
    const given = Buffer.from(sig, "base64url");
    // base64url leaves spare bits in the last character: only the canonical spelling is accepted.
    if (given.toString("base64url") !== sig) return refused("malformed signature");
    const signed = `${path}?exp=${exp}`;
    const valid = keys.map((k) => mac(k, signed)).some((m) => m.length === given.length && timingSafeEqual(m, given));
    if (!valid) return refused("bad signature");
    if (Math.floor(now.getTime() / 1000) >= Number(exp)) return E.left(forbidden("delivery URL expired"));
    return E.right(target);
  };

  return { sign, verify };
};
