/**
 * JSON with the family's number typing: crop values are floats and print as `3.0`, which
 * `JSON.stringify` cannot express. `float()` stands for such a value; `toJson` renders it.
 *
 * A float is a marked string, so the whole body goes through JSON.stringify's own fast path (no
 * replacer function called for every key), and the marks are then swapped for the numbers.
 */
import { randomBytes } from "node:crypto";

// Random per process, so no string a client stored can pass for a marker.
const MARK = `__float_${randomBytes(8).toString("hex")}__:`;
const MARKED = new RegExp(`"${MARK}(-?[0-9.e+-]+)"`, "g");

declare const floatBrand: unique symbol;
/** A number to print with a fractional part; only `toJson` renders it as one. */
export type Float = string & { readonly [floatBrand]: true };

// From 1e21 on, numbers print in exponent form, which is a float as it is.
const renderFloat = (n: number): string => (Number.isInteger(n) && Math.abs(n) < 1e21 ? `${n}.0` : String(n));

export const float = (n: number): Float => `${MARK}${renderFloat(n)}` as Float;

export const toJson = (value: unknown): string => {
  const json = JSON.stringify(value);
  return json.includes(MARK) ? json.replace(MARKED, "$1") : json;
};
