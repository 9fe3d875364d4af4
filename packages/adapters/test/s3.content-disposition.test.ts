import { describe, expect, it } from "vitest";
import { contentDisposition } from "../src/s3/index.js";

describe("contentDisposition", () => {
  it("quotes a plain ASCII name and adds nothing else", () => {
    expect(contentDisposition("attachment", "Super Image.png")).toBe('attachment; filename="Super Image.png"');
    expect(contentDisposition("inline", "a.jpg")).toBe('inline; filename="a.jpg"');
  });

  it("escapes quotes and backslashes inside the quoted name", () => {
    expect(contentDisposition("attachment", 'say "hi"\\.png')).toBe('attachment; filename="say \\"hi\\"\\\\.png"');
  });

  it("replaces control characters so the header cannot be split", () => {
    expect(contentDisposition("attachment", "a\r\nSet-Cookie: x.png")).toBe('attachment; filename="a__Set-Cookie: x.png"');
  });

  it("adds a UTF-8 filename* for non-ASCII names, with an ASCII fallback", () => {
    expect(contentDisposition("attachment", "café.png")).toBe(`attachment; filename="caf_.png"; filename*=UTF-8''caf%C3%A9.png`);
    // Astral characters are one "_" in the fallback and four bytes in filename*.
    expect(contentDisposition("attachment", "📷 (1)'s.jpg")).toBe(
      `attachment; filename="_ (1)'s.jpg"; filename*=UTF-8''%F0%9F%93%B7%20%281%29%27s.jpg`,
    );
  });
});
