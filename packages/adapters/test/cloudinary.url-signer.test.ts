import { renditionOf, ROTATIONS, VARIANTS, type BlobKey, type Crop, type DeliveryTarget, type Rotation, type UrlSigner, type Variant } from "@image-api/core";
import { manualClock, urlSignerContract, type ManualClock } from "@image-api/testkit";
import { v2 as cloudinary } from "cloudinary";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test } from "vitest";
import { cloudinaryUrlSigner } from "../src/cloudinary/index.js";

const ACCOUNT = { cloudName: "sadaasdasd", apiKey: "123456789012345", apiSecret: "a676b67565c6767a6767d6767f676fe1" };
const KEY = "2e141b7be502" as BlobKey;
const CROP: Crop = { x: 3, y: 2, w: 10, h: 11 };
const signer = cloudinaryUrlSigner(ACCOUNT);
const now = new Date("2019-04-08T17:38:52Z");

const target = (variant: Variant, rotation: Rotation = 0, crop: Crop | null = null, over: Partial<DeliveryTarget> = {}): DeliveryTarget => ({
  blobKey: KEY,
  format: "jpg",
  version: 123123,
  rendition: renditionOf({ rotation, crop }, variant),
  filename: KEY,
  ...over,
});

const sign = (t: DeliveryTarget, s: UrlSigner = signer) => s.sign(t, now)();

/**
 * The family's URL for a variant, spelled with the SDK's own transformation options (independently
 * of the adapter's string building): edits go after the 1920 px bound in thumbnails, first elsewhere.
 */
const sdkTransformation = (variant: Variant, rotation: Rotation, crop: Crop | null): object[] => {
  const edits = [
    ...(crop ? [{ crop: "crop", width: crop.w, height: crop.h, x: crop.x, y: crop.y }] : []),
    ...(rotation === 0 ? [] : [{ angle: rotation }]),
  ];
  const fit1920 = { crop: "fit", width: 1920, height: 1920 };
  const attachment = { flags: "attachment" };
  // The family orders these three unlike the SDK's alphabetical output, hence raw.
  const auto = { raw_transformation: "dpr_auto,q_auto,f_auto" };
  switch (variant) {
    case "download":
      return [attachment];
    case "original":
      return [attachment, auto];
    case "full_no_sharinpix":
      return [fit1920, attachment, auto];
    case "full":
      return [fit1920, ...edits, attachment, auto];
    case "large":
      return [fit1920, ...edits, { crop: "fill", width: 200, height: 200 }, attachment, auto];
    case "mini":
      return [fit1920, ...edits, { crop: "fill", width: 100, height: 100 }, attachment, auto];
    case "fill100":
      return [...edits, { crop: "fit", width: 300 }];
    case "fit2000":
      return [...edits, { crop: "fit", width: 2000, height: 2000 }];
  }
};

const sdkUrl = (variant: Variant, rotation: Rotation, crop: Crop | null, signatureAlgorithm: "sha1" | "sha256" = "sha1"): string =>
  cloudinary.url(KEY, {
    cloud_name: ACCOUNT.cloudName,
    api_key: ACCOUNT.apiKey,
    api_secret: ACCOUNT.apiSecret,
    sign_url: true,
    secure: true,
    type: "authenticated",
    resource_type: "image",
    version: 123123,
    format: "jpg",
    signature_algorithm: signatureAlgorithm,
    urlAnalytics: false,
    transformation: sdkTransformation(variant, rotation, crop),
  });

const cases = VARIANTS.flatMap((variant) =>
  ROTATIONS.flatMap((rotation) => [null, CROP].map((crop) => ({ variant, rotation, crop, label: `${variant} a_${rotation}${crop ? " cropped" : ""}` }))),
);

const leftTag = (r: E.Either<{ _tag: string }, unknown>): string => (E.isLeft(r) ? r.left._tag : "Right");

const contractTest = test.extend<{ signer: UrlSigner; clock: ManualClock }>({
  // eslint-disable-next-line no-empty-pattern
  signer: async ({}, use) => use(signer),
  // eslint-disable-next-line no-empty-pattern
  clock: async ({}, use) => use(manualClock(now)),
});

describe("cloudinaryUrlSigner", () => {
  // Cloudinary URLs never expire and have no room for a download name.
  urlSignerContract(contractTest, { expires: false, carriesFilename: false });

  test.for(cases)("equals the SDK's signed url() for $label", async ({ variant, rotation, crop }) => {
    expect(await sign(target(variant, rotation, crop))).toBe(sdkUrl(variant, rotation, crop));
  });

  test("signs and verifies with SHA-256 when the account says so, as the SDK does", async () => {
    const sha256 = cloudinaryUrlSigner({ ...ACCOUNT, signatureAlgorithm: "sha256" });
    for (const { variant, rotation, crop } of cases) {
      const url = await sign(target(variant, rotation, crop), sha256);
      expect(url).toBe(sdkUrl(variant, rotation, crop, "sha256"));
      expect(url).not.toBe(sdkUrl(variant, rotation, crop, "sha1"));
      expect(E.isRight(sha256.verify(url, now))).toBe(true);
      expect(leftTag(signer.verify(url, now))).toBe("Forbidden");
    }
  });

  test("the SDK side of that comparison really signs (a different secret changes every URL)", async () => {
    const other = cloudinaryUrlSigner({ ...ACCOUNT, apiSecret: "another-secret" });
    for (const { variant, rotation, crop } of cases) {
      expect(await sign(target(variant, rotation, crop), other)).not.toBe(sdkUrl(variant, rotation, crop));
    }
  });

  test("a known answer: SHA-1 of `fl_attachment/<id>.jpg` + secret, base64url, first 8 characters", async () => {
    const url = await cloudinaryUrlSigner({ ...ACCOUNT, apiSecret: "shh" }).sign(target("download"), now)();
    expect(url).toBe("https://res.cloudinary.com/sadaasdasd/image/authenticated/s--WsFAClr9--/fl_attachment/v123123/2e141b7be502.jpg");
  });

  const head = "https://res.cloudinary.com/sadaasdasd/image/authenticated/s--[A-Za-z0-9_-]{8}--";
  const tail = "v123123/2e141b7be502\\.jpg";
  test.for([
    // The seed's URLs, rotation 0 and no crop.
    ["download", 0, null, "fl_attachment"],
    ["original", 0, null, "fl_attachment/dpr_auto,q_auto,f_auto"],
    ["full_no_sharinpix", 0, null, "c_fit,h_1920,w_1920/fl_attachment/dpr_auto,q_auto,f_auto"],
    ["full", 0, null, "c_fit,h_1920,w_1920/fl_attachment/dpr_auto,q_auto,f_auto"],
    ["large", 0, null, "c_fit,h_1920,w_1920/c_fill,h_200,w_200/fl_attachment/dpr_auto,q_auto,f_auto"],
    ["mini", 0, null, "c_fit,h_1920,w_1920/c_fill,h_100,w_100/fl_attachment/dpr_auto,q_auto,f_auto"],
    ["fill100", 0, null, "c_fit,w_300"],
    ["fit2000", 0, null, "c_fit,h_2000,w_2000"],
    // Rotate and crop as the family's pages place them; original and full_no_sharinpix never change.
    ["fill100", 90, null, "a_90/c_fit,w_300"],
    ["fit2000", 90, null, "a_90/c_fit,h_2000,w_2000"],
    ["full", 90, null, "c_fit,h_1920,w_1920/a_90/fl_attachment/dpr_auto,q_auto,f_auto"],
    ["large", 270, null, "c_fit,h_1920,w_1920/a_270/c_fill,h_200,w_200/fl_attachment/dpr_auto,q_auto,f_auto"],
    ["mini", 0, CROP, "c_fit,h_1920,w_1920/c_crop,h_11,w_10,x_3,y_2/c_fill,h_100,w_100/fl_attachment/dpr_auto,q_auto,f_auto"],
    ["fill100", 180, CROP, "c_crop,h_11,w_10,x_3,y_2/a_180/c_fit,w_300"],
    ["original", 90, CROP, "fl_attachment/dpr_auto,q_auto,f_auto"],
    ["full_no_sharinpix", 90, CROP, "c_fit,h_1920,w_1920/fl_attachment/dpr_auto,q_auto,f_auto"],
    ["download", 90, CROP, "fl_attachment"],
  ] as const)("%s rotated %i, crop %o: the family's shape", async ([variant, rotation, crop, transformation]) => {
    const url = await sign(target(variant, rotation, crop));
    expect(url).toMatch(new RegExp(`^${head}/${transformation.replace(/\./g, "\\.")}/${tail}$`));
  });

  test("a custom delivery host replaces res.cloudinary.com and keeps the cloud name segment", async () => {
    const cname = cloudinaryUrlSigner({ ...ACCOUNT, secureDistribution: "images.example.org" });
    const url = await sign(target("fill100"), cname);
    expect(url).toBe((await sign(target("fill100"))).replace("res.cloudinary.com", "images.example.org"));
    expect(cname.verify(url, now)).toEqual(E.right(target("fill100")));
    expect(leftTag(signer.verify(url, now))).toBe("Forbidden");
  });

  test.for(cases)("verify recovers the target of $label", async ({ variant, rotation, crop }) => {
    const t = target(variant, rotation, crop);
    const got = signer.verify(await sign(t), now);
    // Without edits `full` and `full_no_sharinpix` share one URL; either names the same rendition.
    const expected = variant === "full" && rotation === 0 && crop === null ? target("full_no_sharinpix") : target(variant, rotation, crop);
    expect(got).toEqual(E.right(expected));
  });

  test("verify accepts the SDK's own URLs and never expires them", async () => {
    const url = sdkUrl("large", 90, CROP);
    expect(signer.verify(url, new Date("2100-01-01T00:00:00Z"))).toEqual(E.right(target("large", 90, CROP)));
  });

  test("verify ignores the SDK's analytics query parameter, which the signature does not cover", () => {
    const url = cloudinary.url(KEY, { ...ACCOUNT, cloud_name: ACCOUNT.cloudName, api_secret: ACCOUNT.apiSecret, sign_url: true, secure: true, type: "authenticated", version: 123123, format: "jpg", raw_transformation: "c_fit,w_300" });
    expect(url).toContain("?_a=");
    expect(signer.verify(url, now)).toEqual(E.right(target("fill100")));
  });

  test("any change to a signed part of the URL is Forbidden", async () => {
    const url = await sign(target("large", 90, CROP));
    const changes: [string, string][] = [
      ["signature", url.replace(/s--(.)/, (_m, c: string) => `s--${c === "A" ? "B" : "A"}`)],
      ["angle", url.replace("a_90", "a_180")],
      ["crop", url.replace("x_3", "x_4")],
      ["resize", url.replace("c_fill,h_200,w_200", "c_fill,h_100,w_100")],
      ["dropped flag", url.replace("/fl_attachment", "")],
      ["public id", url.replace(KEY, "2e141b7be503")],
      ["format", url.replace(".jpg", ".png")],
      ["no format", url.replace(".jpg", "")],
      ["cloud", url.replace("/sadaasdasd/", "/otherclouds/")],
      ["resource type", url.replace("/image/", "/video/")],
      ["delivery type", url.replace("/authenticated/", "/upload/")],
      ["host", url.replace("res.cloudinary.com", "evil.example.org")],
      ["scheme", url.replace("https:", "http:")],
      ["no version", url.replace("/v123123", "")],
    ];
    for (const [what, changed] of changes) {
      expect(changed, what).not.toBe(url);
      expect(leftTag(signer.verify(changed, now)), what).toBe("Forbidden");
    }
  });

  test("the version is not signed, as on Cloudinary itself: a changed version still verifies", async () => {
    const url = await sign(target("mini"));
    expect(signer.verify(url.replace("/v123123/", "/v123124/"), now)).toEqual(E.right(target("mini", 0, null, { version: 123124 })));
  });

  test.for(["", "garbage", "https://res.cloudinary.com/", "https://res.cloudinary.com/sadaasdasd/image/authenticated/s--fYHykjSt--/fl_attachment/v123123/2e141b7be502.jpg"])(
    "refuses %j (the last is the seed's URL, signed with another secret)",
    (url) => {
      expect(leftTag(signer.verify(url, now))).toBe("Forbidden");
    },
  );

  test("a transformation no variant produces is Forbidden even when correctly signed", () => {
    const url = cloudinary.url(KEY, { cloud_name: ACCOUNT.cloudName, api_secret: ACCOUNT.apiSecret, sign_url: true, secure: true, type: "authenticated", version: 123123, format: "jpg", urlAnalytics: false, raw_transformation: "c_fit,w_301" });
    expect(leftTag(signer.verify(url, now))).toBe("Forbidden");
  });
});
