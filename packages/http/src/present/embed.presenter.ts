import type { ImageEmbed, UrlSigner } from "@image-api/core";
import { signAll } from "./image.presenter.js";

const ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Safe inside a double-quoted HTML attribute value, and anywhere else in markup. */
export const escapeAttribute = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** A `srcset` candidate ends at whitespace, so a URL may carry none (signed URLs encode theirs anyway). */
const candidateUrl = (url: string): string => url.replace(/[\t\n\f\r ]/g, encodeURIComponent);

/**
 * A ready-to-paste `<img>`: the full rendition as `src` with its size, the mini / large / full
 * renditions as a `srcset` of width descriptors, the title as `alt`, loaded lazily. Only an `<img>`
 * and its attributes, every value escaped.
 */
export const embedHtml = (embed: ImageEmbed, urls: Readonly<Record<string, string>>): string => {
  const attributes: [string, string][] = [
    ["src", urls[embed.main.variant]!],
    ["srcset", embed.sources.map((s) => `${candidateUrl(urls[s.variant]!)} ${s.width}w`).join(", ")],
    ["width", String(embed.main.size.width)],
    ["height", String(embed.main.size.height)],
    ["alt", embed.image.title ?? ""],
    ["loading", "lazy"],
  ];
  return `<img ${attributes.map(([name, value]) => `${name}="${escapeAttribute(value)}"`).join(" ")}>`;
};

/** The family's embed answer, `{"html": "…"}`, with freshly signed delivery URLs. */
export const presentEmbed = async (embed: ImageEmbed, signer: UrlSigner, now: Date): Promise<{ html: string }> => ({
  html: embedHtml(embed, await signAll(embed.image, signer, now)),
});
