import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { abilitiesOn, albumsWith, authorize, authorizeAny, can, refreshClaims, type Claims } from "../src/index.js";

const claims = (access: Record<string, unknown>, album = "A1"): Claims => ({ exp: 2_000_000_000, abilities: { [album]: { Access: access } } });

describe("ability policy", () => {
  it("grants only a literal true on the same album", () => {
    expect(can(claims({ image_duplicate: true }), "A1", "image_duplicate")).toBe(true);
    expect(can(claims({ image_duplicate: false }), "A1", "image_duplicate")).toBe(false);
    expect(can(claims({ image_duplicate: "true" }), "A1", "image_duplicate")).toBe(false);
    expect(can(claims({ image_duplicate: 1 }), "A1", "image_duplicate")).toBe(false);
    expect(can(claims({ image_duplicate: true }), "A2", "image_duplicate")).toBe(false);
    expect(can(claims({ image_duplicate: true }), "a1", "image_duplicate")).toBe(false);
    expect(can(claims({ image_list: true }), "A1", "image_duplicate")).toBe(false);
    expect(can({ exp: 1 }, "A1", "image_list")).toBe(false);
    expect(can({ exp: 1, abilities: { A1: {} } }, "A1", "image_list")).toBe(false);
  });

  it("grants a search token's top-level flags only on what its q covers", () => {
    const album = "00D24000000Yp7gEAC";
    const token = (flags: Record<string, unknown>, q: string): Claims => ({ exp: 2_000_000_000, iss: "t", q, ...flags }) as Claims;
    expect(can(token({ image_delete: true }, album), album, "image_delete")).toBe(true);
    expect(can(token({ image_delete: true }, "*"), album, "image_delete")).toBe(true);
    expect(can(token({ image_delete: false }, album), album, "image_delete")).toBe(false);
    expect(can(token({}, album), album, "image_delete")).toBe(false);
    expect(can(token({ image_delete: "true" }, album), album, "image_delete")).toBe(false);
    expect(can(token({ image_delete: true }, "00D24000000Yp7gFAC"), album, "image_delete")).toBe(false);
    expect(can(token({ image_delete: true }, album), album, "image_upload")).toBe(false);
    // Top-level flags mean nothing without q: a user token grants only through its abilities.
    expect(can({ exp: 1, image_delete: true } as Claims, album, "image_delete")).toBe(false);
  });

  it("lists the albums a user token grants an ability on", () => {
    const c: Claims = { exp: 1, abilities: { A1: { Access: { image_list: true } }, A2: { Access: { image_list: false } }, A3: { Access: { image_list: true, image_delete: true } } } };
    expect(albumsWith(c, "image_list")).toEqual(["A1", "A3"]);
    expect(albumsWith(c, "image_delete")).toEqual(["A3"]);
    expect(albumsWith({ exp: 1 }, "image_list")).toEqual([]);
  });

  it("is not fooled by inherited properties", () => {
    expect(can({ exp: 1, abilities: {} }, "constructor", "image_list")).toBe(false);
    expect(can({ exp: 1, abilities: { A1: { Access: {} } } }, "A1", "toString" as "image_list")).toBe(false);
  });

  it("explains a refusal", () => {
    const denied = authorize(claims({}), "A1", "image_delete");
    expect(E.isLeft(denied) && denied.left).toEqual({ _tag: "Forbidden", message: "token lacks image_delete on album A1" });
    expect(E.isRight(authorizeAny(claims({ image_crop: true }), "A1", ["image_rotate", "image_crop"]))).toBe(true);
    expect(E.isLeft(authorizeAny(claims({ image_list: true }), "A1", ["image_rotate", "image_crop"]))).toBe(true);
  });

  it("lists what a caller may do on an album", () => {
    expect([...abilitiesOn(claims({ image_crop: true, image_rotate: false, other: true }), "A1")]).toEqual(["image_crop"]);
  });

  it("refreshes a token for four hours, never shortening it", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const iat = now.getTime() / 1000;
    expect(refreshClaims({ exp: iat + 60, user_id: "u", q: "x" } as Claims, now)).toEqual({ exp: iat + 14_400, iat, user_id: "u", q: "x" });
    expect(refreshClaims({ exp: iat + 99_999 }, now)).toEqual({ exp: iat + 99_999, iat });
  });
});
