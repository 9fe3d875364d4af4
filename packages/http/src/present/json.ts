/**
 * JSON with the family's number typing: crop values are floats and print as `3.0`, which
 * `JSON.stringify` cannot express. `float()` marks such a value; `toJson` renders it.
 */
import { randomBytes } from "node:crypto";

// Random per process, so no string a client stored can pass for a marker.
const MARK = `__float_${randomBytes(8).toString("hex")}__:`;
const MARKED = new RegExp(`"${MARK}(-?[0-9.e+-]+)"`, "g");

export interface Float {
  readonly __float: number;
}

export const float = (n: number): Float => ({ __float: n });

const isFloat = (v: unknown): v is Float => typeof v === "object" && v !== null && "__float" in v;

const renderFloat = (n: number): string => (Number.isInteger(n) ? `${n}.0` : String(n));

export const toJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (isFloat(v) ? `${MARK}${v.__float}` : v)).replace(MARKED, (_m, n: string) =>
    renderFloat(Number(n)),
  );
