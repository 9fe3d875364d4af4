/** RFC 5987 attr-char: everything else in `filename*` is percent-encoded UTF-8. */
const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;

const encodeExtValue = (value: string): string =>
  Array.from(new TextEncoder().encode(value), (byte) => {
    const c = String.fromCharCode(byte);
    return ATTR_CHAR.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");

/**
 * An RFC 6266 `Content-Disposition` value. Old clients read the quoted ASCII `filename` (non-ASCII
 * replaced by "_"); a name outside printable ASCII also gets the exact UTF-8 `filename*`, which wins.
 */
export const contentDisposition = (type: "attachment" | "inline", filename: string): string => {
  // Control characters are never part of a sensible download name and some clients choke on them.
  const name = filename.replace(/[\u0000-\u001f\u007f]/g, "_");
  const ascii = /^[\u0020-\u007e]*$/.test(name);
  const fallback = name.replace(/[^\u0020-\u007e]/gu, "_").replace(/["\\]/g, (c) => `\\${c}`);
  return ascii ? `${type}; filename="${fallback}"` : `${type}; filename="${fallback}"; filename*=UTF-8''${encodeExtValue(name)}`;
};
