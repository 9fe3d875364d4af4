import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import { openApiDocument } from "../src/openapi/document.js";
import type { OpenApiDocument } from "../src/openapi/spec-types.js";
import { freshAlbum, IMAGE_KEYS, PUBLIC_URL, startTestApp, uploaded, type TestApp } from "./harness.js";
import { compileContract, documentedOperations, expressRoutes, recordExchanges, validated, type Exchange } from "./openapi-validation.js";

const document = openApiDocument({ publicUrl: PUBLIC_URL });

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(JSON.stringify(document)) as Record<string, unknown>);
    expect(result.errors, JSON.stringify(result.errors, null, 2)).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("holds only schemas that compile under strict JSON Schema 2020-12 (no unknown keyword, no loose type)", () => {
    expect(() => compileContract(document).compileAll()).not.toThrow();
  });

  it("describes exactly the app's Express routes (HEAD where Express answers it through GET)", () => {
    const routes = expressRoutes(t.app);
    const operations = documentedOperations(document);
    expect(operations.filter((o) => !o.startsWith("HEAD "))).toEqual(routes);
    for (const head of operations.filter((o) => o.startsWith("HEAD "))) expect(routes).toContain(head.replace(/^HEAD /, "GET "));
  });

  it("lists the image's 35 keys in the family's order, all required, and no other", () => {
    const image = document.components.schemas["Image"]!;
    expect(Object.keys(image.properties!)).toEqual([...IMAGE_KEYS]);
    expect(image.required).toEqual([...IMAGE_KEYS]);
    expect(image.additionalProperties).toBe(false);
  });

  it("describes the seed exchange (duplicate-an-image) byte for byte: its status, headers and body", () => {
    // Copied by hand from the seed (shared/seed/duplicate-an-image.md) rather than read from it, like seed-contract.ts.
    const body = Buffer.from(JSON.stringify(SEED_BODY));
    const exchange: Exchange = {
      method: "POST",
      url: "/api/v1/images/4c4401c9-9cb1-4c50-b15e-b171de99af5e/duplicate",
      requestHeaders: { "content-type": "application/x-www-form-urlencoded" },
      status: 200,
      headers: { ...SEED_HEADERS, "content-length": String(body.length) },
      body,
    };
    expect(compileContract(document).check(exchange)).toEqual([]);
  });
});

describe("GET /openapi.json", () => {
  it("serves the document, with the configured public URL as its server, without a token", async () => {
    const r = await t.http().get("/openapi.json");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(r.body).toEqual(JSON.parse(JSON.stringify(document)));
    expect(r.body.servers).toEqual([{ url: PUBLIC_URL, description: expect.any(String) }]);
  });

  it("names its own origin (`/`) when no public URL is configured", async () => {
    const { default: request } = await import("supertest");
    const r = await request(validated(createApp(t.deps))).get("/openapi.json");
    expect(r.status).toBe(200);
    expect(r.body.servers).toEqual([{ url: "/", description: expect.any(String) }]);
  });
});

describe("GET /docs", () => {
  it("serves a page whose scripts and styles all come from the service, under a CSP without inline script", async () => {
    const r = await t.http().get("/docs");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("text/html; charset=utf-8");
    const csp = String(r.headers["content-security-policy"]);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    // Every script is a file: none inline.
    const scripts = [...r.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, inline] of scripts) {
      expect(attrs).toMatch(/\ssrc="docs\/[^"]+"/);
      expect(inline!.trim()).toBe("");
    }
    const links = [...r.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(links.every((l) => l.startsWith("docs/"))).toBe(true);
    for (const link of links) {
      const asset = await t.http().get(`/${link}`);
      expect(asset.status, link).toBe(200);
      expect(asset.headers["cache-control"]).toBe("public, max-age=3600");
    }
  });

  it("points Swagger UI at /openapi.json and at no online validator", async () => {
    const r = await t.http().get("/docs/init.js");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(r.text).toContain('new URL("openapi.json", document.baseURI)');
    expect(r.text).toContain("validatorUrl: null");
  });

  it("redirects /docs/ to /docs, where the page's relative links resolve", async () => {
    const r = await t.http().get("/docs/");
    expect(r.status).toBe(301);
    expect(r.headers["location"]).toBe("../docs");
    expect(new URL(r.headers["location"]!, "http://x/docs/").pathname).toBe("/docs");
  });

  it("serves only the listed swagger-ui-dist files (not its petstore index.html)", async () => {
    for (const name of ["index.html", "swagger-initializer.js", "package.json", "..%2fpackage.json"]) {
      const r = await t.http().get(`/docs/${name}`);
      expect(r.status, name).toBe(404);
      expect(r.body.error.code).toBe("not_found");
    }
  });
});

/** A plain copy of the document, for breaking one thing in it. */
const copy = (): Record<string, any> => JSON.parse(JSON.stringify(document)) as Record<string, any>;

describe("the response validation the HTTP tests run under", () => {
  const problemsWith = async (broken: Record<string, any>, exchange: (app: ReturnType<typeof createApp>, token: string, id: string) => Promise<unknown>) => {
    const contract = compileContract(broken as unknown as OpenApiDocument);
    const problems: string[] = [];
    const album = freshAlbum("OAS");
    const image = await uploaded(t, { album });
    const token = await t.token(["image_duplicate", "image_list"], album);
    const app = recordExchanges(createApp(t.deps), (e) => problems.push(...contract.check(e)));
    await exchange(app, t.auth(token), image.id);
    return problems;
  };
  const request = async () => (await import("supertest")).default;

  it("reports a key the image schema lacks", async () => {
    const broken = copy();
    delete broken.components.schemas.Image.properties.color;
    broken.components.schemas.Image.required = broken.components.schemas.Image.required.filter((k: string) => k !== "color");
    const problems = await problemsWith(broken, async (app, auth, id) => (await request())(app).post(`/api/v1/images/${id}/duplicate`).set("Authorization", auth));
    expect(problems).toEqual([expect.stringContaining("must NOT have additional properties 'color'")]);
  });

  it("reports a wrong nullability", async () => {
    const broken = copy();
    broken.components.schemas.Image.properties.title = { type: "string" };
    const problems = await problemsWith(broken, async (app, auth, id) => (await request())(app).get(`/api/v1/images/${id}`).set("Authorization", auth));
    expect(problems).toEqual([expect.stringContaining("/title must be string")]);
  });

  it("reports an undocumented status, an undocumented route and a missing required header", async () => {
    const broken = copy();
    delete broken.paths["/api/v1/images/{id}"].get.responses["404"];
    delete broken.paths["/api/v1/images/{id}/duplicate"];
    broken.paths["/livez"].get.responses["200"].headers["X-Shard"] = { required: true, schema: { type: "string" } };
    const problems = await problemsWith(broken, async (app, auth, id) => {
      const http = await request();
      await http(app).get("/api/v1/images/0f8fad5b-d9cb-469f-a165-70867728950e").set("Authorization", auth);
      await http(app).post(`/api/v1/images/${id}/duplicate`).set("Authorization", auth);
      await http(app).get("/livez");
    });
    expect(problems).toEqual([
      expect.stringContaining("status 404 is not documented for GET /api/v1/images/{id}"),
      expect.stringContaining("undocumented route: no POST /api/v1/images/"),
      "missing header X-Shard",
    ]);
  });
});

/** The seed's response headers (the varying ones as the seed shows them). */
const SEED_HEADERS: Record<string, string> = {
  "cache-control": "no-cache, no-store",
  pragma: "no-cache",
  expires: "Fri, 01 Jan 1990 00:00:00 GMT",
  "content-type": "application/json; charset=utf-8",
  "x-token":
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE1NTQ3NTk1MzIsImlhdCI6MTU1NDc0NTEzMiwidXNlcl9pZCI6IjRlZDY3MzdiLWZkZWMtNDk5YS1hMWUyLTkyYTAyN2MwNzlmNiIsImFiaWxpdGllcyI6eyIwMDEwMDAwMDEyM0JCMTI0Ijp7IkFjY2VzcyI6eyJpbWFnZV9kdXBsaWNhdGUiOnRydWV9fX19.-etoTcVqMMFU8tjsUuCx1QHl-30CMtRZ7u-h2bmsoJQ",
  vary: "Accept-Encoding",
  p3p: 'CP="NOI ADM DEV PSAi COM NAV OUR OTRo STP IND DEM"',
  "x-request-id": "e25c86d9-4804-4ffa-9185-cd8897824add",
  "x-runtime": "0.024607",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "x-xss-protection": "1; mode=block",
  "x-download-options": "noopen",
  "x-permitted-cross-domain-policies": "none",
  "referrer-policy": "origin-when-cross-origin, strict-origin-when-cross-origin",
};

/** The seed's body; `0.0` crop values are plain numbers once parsed, which is all a schema sees. */
const SEED_BODY = {
  id: "bb9a3d1a-ebfc-4a29-9b22-aeb1fb57ef3b",
  public_id: "bb9a3d1a-ebfc-4a29-9b22-aeb1fb57ef3b",
  infos: {
    bytes: 3604,
    created_at: "2015-09-25T13:32:55Z",
    etag: "5a98d4d3e5d39024abf237be55e99b15",
    format: "png",
    height: 48,
    resource_type: "image",
    tags: ["00100000123BB124"],
    type: "authenticated",
    width: 48,
    original_filename: "Super Image",
    location: { accuracy: 36, latitude: 48.861934399999996, longitude: 2.348967 },
  },
  exifs: {},
  gps: [48.861934399999996, 2.348967],
  gps_ip: null,
  gps_exifs: null,
  gps_html: [48.861934399999996, 2.348967],
  created_at: "2019-04-08T19:38:52.108+02:00",
  updated_at: "2019-04-08T19:38:52.108+02:00",
  taken_at: null,
  width: 48,
  height: 48,
  rotation: 0,
  crop_x: 0.0,
  crop_y: 0.0,
  crop_w: 0.0,
  crop_h: 0.0,
  metadatas: {},
  original_url: "https://res.cloudinary.com/sadaasdasd/image/authenticated/s--fYHykjSt--/fl_attachment/v123123/2e141b7be502.jpg",
  original_width: 48,
  original_height: 48,
  external_urls: {
    fill100: "/assets/blank.jpg#https://res.cloudinary.com/sadaasdasd/image/authenticated/s--oZ53j9Ho--/c_fit,w_300/v123123/2e141b7be502.jpg",
    fit2000: "/assets/blank.jpg#https://res.cloudinary.com/sadaasdasd/image/authenticated/s--1msOk8pv--/c_fit,h_2000,w_2000/v123123/2e141b7be502.jpg",
    mini: "https://sharinpix-proxy-dev.herokuapp.com/super-image.png?s=e18463c&url=localhost/images/bb9a3d1a-ebfc-4a29-9b22-aeb1fb57ef3b/thumbnails/mini-efd2d1923ad.jpg",
    large: "https://sharinpix-proxy-dev.herokuapp.com/super-image.png?s=2109a65&url=localhost/images/bb9a3d1a-ebfc-4a29-9b22-aeb1fb57ef3b/thumbnails/thumbnail-bfc4977f71b.jpg",
    full: "https://sharinpix-proxy-dev.herokuapp.com/super-image.png?s=9f5e2a6&url=localhost/images/bb9a3d1a-ebfc-4a29-9b22-aeb1fb57ef3b/thumbnails/full-5f4e5d876b4.jpg",
  },
  filename: "Super Image",
  format: "png",
  title: null,
  description: null,
  page: 1,
  group_id: "4c4401c9-9cb1-4c50-b15e-b171de99af5e",
  color: "#7D7D7D",
  size: 3604,
  processed: false,
  processing_error: null,
  album_id: "00100000123BB124",
  thumbnails: {
    original: "/assets/blank.jpg#https://res.cloudinary.com/sadaasdasd/image/authenticated/s--HqRAFc_p--/fl_attachment/dpr_auto,q_auto,f_auto/v123123/2e141b7be502.jpg",
    full_no_sharinpix:
      "/assets/blank.jpg#https://res.cloudinary.com/sadaasdasd/image/authenticated/s--jRN92YUf--/c_fit,h_1920,w_1920/fl_attachment/dpr_auto,q_auto,f_auto/v123123/2e141b7be502.jpg",
    full: "/assets/blank.jpg#https://res.cloudinary.com/sadaasdasd/image/authenticated/s--jRN92YUf--/c_fit,h_1920,w_1920/fl_attachment/dpr_auto,q_auto,f_auto/v123123/2e141b7be502.jpg",
    large:
      "/assets/blank.jpg#https://res.cloudinary.com/sadaasdasd/image/authenticated/s--WEAxTACF--/c_fit,h_1920,w_1920/c_fill,h_200,w_200/fl_attachment/dpr_auto,q_auto,f_auto/v123123/2e141b7be502.jpg",
    mini: "/assets/blank.jpg#https://res.cloudinary.com/sadaasdasd/image/authenticated/s--aMh8i8Ii--/c_fit,h_1920,w_1920/c_fill,h_100,w_100/fl_attachment/dpr_auto,q_auto,f_auto/v123123/2e141b7be502.jpg",
  },
};
