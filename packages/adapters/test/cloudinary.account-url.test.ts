import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { parseCloudinaryUrl } from "../src/cloudinary/index.js";

describe("parseCloudinaryUrl", () => {
  it("reads key, secret and cloud name, keeping the cloud name's case and decoding the secret", () => {
    expect(parseCloudinaryUrl("cloudinary://614335564976464:Ab%2Fcd-Ef@My_Cloud")).toEqual(
      E.right({ cloudName: "My_Cloud", apiKey: "614335564976464", apiSecret: "Ab/cd-Ef" }),
    );
  });

  it("reads the optional hosts and signature algorithm", () => {
    expect(
      parseCloudinaryUrl("cloudinary://1:2@c?upload_prefix=http://127.0.0.1:8080&secure_distribution=img.example.org&signature_algorithm=sha256"),
    ).toEqual(E.right({ cloudName: "c", apiKey: "1", apiSecret: "2", uploadPrefix: "http://127.0.0.1:8080", secureDistribution: "img.example.org", signatureAlgorithm: "sha256" }));
  });

  it("delivers over plain HTTP from cname with secure=false, as the SDK does", () => {
    const r = parseCloudinaryUrl("cloudinary://1:2@c?upload_prefix=http://127.0.0.1:8080&secure=false&cname=127.0.0.1:8080");
    expect(E.isRight(r) && r.right.deliveryBaseUrl).toBe("http://127.0.0.1:8080");
    expect(E.isRight(r) && "deliveryBaseUrl" in r.right).toBe(true);
    const shared = parseCloudinaryUrl("cloudinary://1:2@c?secure=false");
    expect(E.isRight(shared) && shared.right.deliveryBaseUrl).toBe("http://res.cloudinary.com");
    const secure = parseCloudinaryUrl("cloudinary://1:2@c?secure=true&cname=127.0.0.1:8080");
    expect(E.isRight(secure) && "deliveryBaseUrl" in secure.right).toBe(false);
  });

  it.for(["", "cloudinary://1@c", "cloudinary://:2@c", "https://1:2@c", "cloudinary://1:2@c?signature_algorithm=md5", "cloudinary://1:2@c?secure=no", "cloudinary://1:2@c?secure=false&cname=http://x/y"])("refuses %j", (url) => {
    const r = parseCloudinaryUrl(url);
    expect(E.isLeft(r) && r.left._tag).toBe("Invalid");
    expect(E.isLeft(r) && r.left.issues[0]?.field).toBe("CLOUDINARY_URL");
  });
});
