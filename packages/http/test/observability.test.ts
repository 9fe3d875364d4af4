import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/observability/logger.js";
import type { Lifecycle } from "../src/routes/health.routes.js";
import { findSecrets, secretPatterns } from "./log-scan.js";
import { validated } from "./openapi-validation.js";
import { deliveryUrls, freshAlbum, pathOf, SECRET, startTestApp, uploaded, URL_KEY, type TestApp } from "./harness.js";

const METRICS_TOKEN = "metrics-token-0123456789";
const lines: Record<string, any>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(l));
    done();
  },
});
const lifecycle: Lifecycle = { state: "ready" };
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({}, undefined, { logger: createLogger({ level: "info", destination: sink }), lifecycle, metricsToken: METRICS_TOKEN, corsOrigins: ["https://app.example.org"] });
});
afterAll(() => t.close());

const requestLines = () => lines.filter((l) => l["msg"] === "request");

describe("request log", () => {
  it("writes one JSON line per request with id, route pattern, status, duration, caller and bytes, and no credentials", async () => {
    const album = freshAlbum();
    const img = await uploaded(t, { album });
    const token = await t.token(["image_duplicate", "image_list"], album);
    lines.length = 0;
    const r = await t.http().post(`/api/v1/images/${img.id}/duplicate`).set("Authorization", t.auth(token)).set("X-Request-Id", "req-abc-123");
    expect(r.status).toBe(200);
    const thumb = await t.http().get(pathOf(deliveryUrls(r.body)["thumbnails.mini"]!));
    expect(thumb.status).toBe(200);
    const denied = await t.http().get(`/api/v1/images/${img.id}`).set("Authorization", "Token token=\"nope\"");
    expect(denied.status).toBe(401);
    await expect.poll(() => requestLines().length).toBe(3);
    const [dup, media, refused] = requestLines();
    expect(dup).toMatchObject({ level: 30, req_id: "req-abc-123", method: "POST", route: "/api/v1/images/:id/duplicate", status: 200, user_id: "4ed6737b-fdec-499a-a1e2-92a027c079f6" });
    expect(dup!["duration_ms"]).toBeGreaterThan(0);
    // The time of the line, ISO 8601 in UTC to the millisecond, of now.
    for (const line of [dup, media, refused]) {
      expect(line!["time"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Math.abs(Date.parse(line!["time"] as string) - Date.now())).toBeLessThan(60_000);
    }
    expect(Date.parse(refused!["time"] as string)).toBeGreaterThanOrEqual(Date.parse(dup!["time"] as string));
    expect(dup!["bytes_out"]).toBe(Number(r.headers["content-length"]));
    expect(media).toMatchObject({ method: "GET", route: "/media/*path", status: 200 });
    expect(media!["bytes_out"]).toBe(thumb.body.length);
    expect(refused).toMatchObject({ status: 401, route: "unmatched" });
    const text = JSON.stringify(lines);
    for (const secret of [token, r.headers["x-token"], SECRET, URL_KEY, new URL(deliveryUrls(r.body)["thumbnails.mini"]!).searchParams.get("sig")!]) expect(text).not.toContain(secret);
  });

  it("logs an unexpected error with its stack", async () => {
    const { createApp } = await import("../src/app.js");
    lines.length = 0;
    const app = validated(
      createApp(
        { ...t.deps, images: { ...t.deps.images, findById: () => () => Promise.reject(new Error("kaboom")) } },
        { logger: createLogger({ level: "info", destination: sink }) },
      ),
    );
    const album = freshAlbum();
    const { default: request } = await import("supertest");
    const r = await request(app).get(`/api/v1/images/00000000-0000-4000-8000-000000000001`).set("Authorization", t.auth(await t.token(["image_list"], album)));
    expect(r.status).toBe(500);
    await expect.poll(() => lines.some((l) => l["msg"] === "unexpected error")).toBe(true);
    const err = lines.find((l) => l["msg"] === "unexpected error")!;
    expect(err["level"]).toBe(50);
    expect(err["err"]["stack"]).toContain("kaboom");
    expect(requestLines().at(-1)).toMatchObject({ status: 500, level: 50 });
  });
});

describe("metrics", () => {
  it("needs the metrics token when one is configured", async () => {
    expect((await t.http().get("/metrics")).status).toBe(401);
    expect((await t.http().get("/metrics").set("Authorization", "Bearer wrong-token-0123456789")).status).toBe(401);
  });

  it("exposes request durations by route, in-flight requests, blob operations and renditions in Prometheus text", async () => {
    const album = freshAlbum();
    const img = await uploaded(t, { album });
    const mini = pathOf(deliveryUrls(img)["thumbnails.mini"]!);
    await t.http().get(mini);
    await t.http().get(mini);
    const r = await t.http().get("/metrics").set("Authorization", `Bearer ${METRICS_TOKEN}`);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const count = (name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\d+)`, "m").exec(r.text)?.[1] ?? 0);
    expect(count("http_request_duration_seconds_count", 'method="POST",route="/api/v1/albums/:album_id/images",status="200"')).toBeGreaterThanOrEqual(1);
    expect(count("http_request_duration_seconds_count", 'method="GET",route="/media/\\*path",status="200"')).toBeGreaterThanOrEqual(2);
    expect(r.text).toMatch(/^http_requests_in_flight 1$/m);
    expect(count("image_api_blob_operation_duration_seconds_count", 'operation="put",backend="filesystem",outcome="ok"')).toBeGreaterThanOrEqual(1);
    expect(count("image_api_renditions_total", 'source="rendered"')).toBeGreaterThanOrEqual(1);
    expect(count("image_api_renditions_total", 'source="cache"')).toBeGreaterThanOrEqual(1);
  });
});

describe("health", () => {
  it("/livez answers without I/O; /readyz checks database and storage and follows the lifecycle", async () => {
    expect((await t.http().get("/livez")).body).toEqual({ status: "ok" });
    const ready = await t.http().get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: "ready", checks: { database: "up", storage: "up" } });
    lifecycle.state = "stopping";
    try {
      const stopping = await t.http().get("/readyz");
      expect(stopping.status).toBe(503);
      expect(stopping.body).toEqual({ status: "stopping" });
      expect((await t.http().get("/livez")).status).toBe(200);
    } finally {
      lifecycle.state = "ready";
    }
  });
});

describe("CORS", () => {
  it("answers a preflight from an allowed origin without a token", async () => {
    const r = await t
      .http()
      .options("/api/v1/images/x/duplicate")
      .set("Origin", "https://app.example.org")
      .set("Access-Control-Request-Method", "POST")
      .set("Access-Control-Request-Headers", "authorization,idempotency-key");
    expect(r.status).toBe(204);
    expect(r.headers["access-control-allow-origin"]).toBe("https://app.example.org");
    expect(r.headers["access-control-allow-headers"]).toContain("Authorization");
    expect(r.headers["access-control-allow-methods"]).toContain("POST");
  });

  it("exposes the family's headers to an allowed origin and grants nothing to another", async () => {
    const album = freshAlbum();
    const token = await t.token(["image_list"], album);
    const ok = await t.http().get(`/api/v1/albums/${album}/images`).set("Origin", "https://app.example.org").set("Authorization", t.auth(token));
    expect(ok.headers["access-control-allow-origin"]).toBe("https://app.example.org");
    expect(ok.headers["access-control-expose-headers"]).toContain("X-token");
    // Caches must keep answers for different origins apart, and still vary by encoding.
    expect(ok.headers["vary"]).toBe("Origin, Accept-Encoding");
    const other = await t.http().get(`/api/v1/albums/${album}/images`).set("Origin", "https://evil.example").set("Authorization", t.auth(token));
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
    const none = await t.http().get(`/api/v1/albums/${album}/images`).set("Authorization", t.auth(token));
    expect(Object.keys(none.headers).filter((h) => h.startsWith("access-control"))).toEqual([]);
  });
});

describe("CORS when IMAGE_API_CORS_ORIGINS is unset", () => {
  it("sends no Access-Control header, to a preflight or a request with an Origin", async () => {
    const plain = await startTestApp();
    try {
      const preflight = await plain
        .http()
        .options("/api/v1/images/x/duplicate")
        .set("Origin", "https://app.example.org")
        .set("Access-Control-Request-Method", "POST");
      const get = await plain.http().get("/livez").set("Origin", "https://app.example.org");
      for (const r of [preflight, get]) expect(Object.keys(r.headers).filter((h) => h.startsWith("access-control"))).toEqual([]);
    } finally {
      await plain.close();
    }
  });
});

describe("the whole run's log scan", () => {
  const patterns = secretPatterns([SECRET, URL_KEY]);
  it.for([
    ["a token", '{"msg":"x","auth":"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3OTYyMzcz.HcwPMk7LdJ8tM3y531I5H3Df4e0"}'],
    ["a delivery signature", '{"url":"/media/abc/mini.jpg?exp=1796227200&sig=Qm9vZ2llV29vZ2llQm9vZ2ll"}'],
    ["an S3 presigned URL", '{"url":"https://b.s3.amazonaws.com/k?X-Amz-Signature=abc"}'],
    ["a Cloudinary signed URL", '{"url":"https://res.cloudinary.com/c/image/authenticated/s--AbCdEf12--/v1/k.png"}'],
    ["CLOUDINARY_URL", '{"env":"cloudinary://614335564976464:secret@cloud"}'],
    ["the JWT secret", `{"err":"${SECRET}"}`],
  ] as const)("finds %s", ([, line]) => {
    expect(findSecrets(`{"msg":"request"}\n${line}\n`, patterns)).toHaveLength(1);
  });

  it("passes an ordinary request line", () => {
    expect(findSecrets('{"msg":"request","path":"/api/v1/images/4ed6737b-fdec-499a-a1e2-92a027c079f6","status":200}', patterns)).toEqual([]);
  });
});
