export interface FormFile {
  readonly filename: string;
  readonly contentType: string;
  readonly data: Buffer;
}

export interface FormData {
  readonly fields: Readonly<Record<string, string>>;
  readonly files: Readonly<Record<string, FormFile>>;
}

const HEADER_END = Buffer.from("\r\n\r\n");

/** The boundary of a `multipart/form-data` content type, or null. */
export const boundaryOf = (contentType: string | undefined): string | null => {
  const m = /^multipart\/form-data\s*;.*?\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  return m ? (m[1] ?? m[2] ?? null) : null;
};

/**
 * A whole-body `multipart/form-data` parser (RFC 7578), enough for the upload API's requests:
 * parts are split on CRLF + `--boundary`, and a part with a filename is a file. Null on malformed input.
 */
export const parseMultipart = (body: Buffer, boundary: string): FormData | null => {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // A leading CRLF lets the first delimiter match like the others.
  const data = Buffer.concat([Buffer.from("\r\n"), body]);
  const fields: Record<string, string> = {};
  const files: Record<string, FormFile> = {};
  let at = data.indexOf(delimiter);
  if (at !== 0) return null;
  for (;;) {
    const start = at + delimiter.length;
    if (data.subarray(start, start + 2).toString() === "--") return { fields, files };
    if (data.subarray(start, start + 2).toString() !== "\r\n") return null;
    const next = data.indexOf(delimiter, start);
    if (next < 0) return null;
    const part = data.subarray(start + 2, next);
    const headerEnd = part.indexOf(HEADER_END);
    if (headerEnd < 0) return null;
    const headers = part.subarray(0, headerEnd).toString("utf8").split("\r\n");
    const content = part.subarray(headerEnd + HEADER_END.length);
    const disposition = headers.find((h) => /^content-disposition:/i.test(h)) ?? "";
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) return null;
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    if (filename === undefined) fields[name] = content.toString("utf8");
    else {
      const type = headers.find((h) => /^content-type:/i.test(h))?.replace(/^content-type:\s*/i, "") ?? "application/octet-stream";
      files[name] = { filename, contentType: type, data: Buffer.from(content) };
    }
    at = next;
  }
};
