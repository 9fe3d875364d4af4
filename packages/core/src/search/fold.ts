/**
 * Text normalisation shared by what is indexed and what is searched: both sides fold in this code, so
 * every storage backend compares the same strings and none needs a collation or an `unaccent` extension.
 */

const MARKS = /\p{M}+/gu;
const NON_WORD = /[^\p{L}\p{N}]+/u;

/** Lower-cases and strips accents: "Café" → "cafe", "ÉCOLE" → "ecole". Characters other than marks are kept. */
export const foldText = (text: string): string => text.toLowerCase().normalize("NFD").replace(MARKS, "");

/** The folded words of `text`: maximal runs of letters and digits, so "IMG_0042.JPG" → ["img", "0042", "jpg"]. */
export const wordsOf = (text: string): string[] => foldText(text).split(NON_WORD).filter((w) => w !== "");
