import { forbidden, renditionOf, type BlobKey, type DeliveryTarget, type UrlSigner, type Variant } from "@image-api/core";
import { anImage } from "@image-api/testkit";
import * as E from "fp-ts/lib/Either.js";
import * as T from "fp-ts/lib/Task.js";
import { describe, expect, it } from "vitest";
import { routingUrlSigner } from "../src/routing/index.js";

const target = (variant: Variant, rotation: 0 | 90 = 0): DeliveryTarget => ({
  blobKey: "blob1" as BlobKey,
  format: "jpg",
  version: 7,
  rendition: renditionOf(anImage({ rotation }), variant),
  filename: "photo",
});

/** A signer that tags its URLs with its name and records what it verified. */
const fake = (name: string) => {
  const verified: string[] = [];
  const signer: UrlSigner = {
    sign: (t) => T.of(`https://${name}/${t.rendition.variant}`),
    verify: (url) => {
      verified.push(url);
      return url.startsWith(`https://${name}/`) ? E.right(target("download")) : E.left(forbidden("not mine"));
    },
  };
  return { signer, verified };
};

describe("routingUrlSigner", () => {
  const now = new Date("2026-01-01T00:00:00Z");

  it("signs the stored bytes with the pass-through signer and edited renditions with the derived one", async () => {
    const store = fake("store");
    const service = fake("service");
    const signer = routingUrlSigner({ passThrough: store.signer, derived: service.signer });

    expect(await signer.sign(target("download"), now)()).toBe("https://store/download");
    expect(await signer.sign(target("original"), now)()).toBe("https://store/original");
    expect(await signer.sign(target("large"), now)()).toBe("https://service/large");
    expect(await signer.sign(target("fill100"), now)()).toBe("https://service/fill100");
    // "full" is always resized, so even an unedited image goes through the service.
    expect(await signer.sign(target("full"), now)()).toBe("https://service/full");
  });

  it("routes by what the rendition does, not by its variant name", async () => {
    const signer = routingUrlSigner({ passThrough: fake("store").signer, derived: fake("service").signer });
    const rotated: DeliveryTarget = { ...target("download"), rendition: { ...target("download").rendition, rotation: 90 } };
    expect(await signer.sign(rotated, now)()).toBe("https://service/download");
  });

  it("falls back to service delivery when the pass-through signer fails", async () => {
    const failing: UrlSigner = { sign: () => () => Promise.reject(new Error("no credentials")), verify: () => E.left(forbidden("no")) };
    const signer = routingUrlSigner({ passThrough: failing, derived: fake("service").signer });
    expect(await signer.sign(target("download"), now)()).toBe("https://service/download");
  });

  it("verifies with the derived signer only, since only the service serves its URLs", () => {
    const store = fake("store");
    const service = fake("service");
    const signer = routingUrlSigner({ passThrough: store.signer, derived: service.signer });

    expect(E.isRight(signer.verify("https://service/large", now))).toBe(true);
    expect(signer.verify("https://store/download", now)).toMatchObject(E.left({ _tag: "Forbidden" }));
    expect(service.verified).toEqual(["https://service/large", "https://store/download"]);
    expect(store.verified).toEqual([]);
  });
});
