import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCi } from "@image-api/testkit";
import { albumCount, freshAlbum, startTestApp, uploaded, type TestApp } from "./harness.js";

/** Debian's Chromium (scripts/ci/ensure-chromium.sh): playwright's own browser downloads need a CDN. */
const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const available = existsSync(CHROMIUM);
// Like the container tests: skipped on a developer's machine without the browser, a failure on CI.
if (!available && isCi()) throw new Error(`CI=true but the docs browser test cannot run: ${CHROMIUM} is missing (bash scripts/ci/ensure-chromium.sh)`);
if (!available) console.warn(`[docs.browser] skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!available)("/docs in a browser", () => {
  let server: Server;
  let base: string;
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    // Listen first: the public URL, the document's server where "Try it out" sends requests, is this port.
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    t = await startTestApp({ IMAGE_API_PUBLIC_URL: base });
    server.on("request", t.app);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await t?.close();
  });

  it("duplicates an image through Swagger UI's Try it out, authorised with the Token scheme", async () => {
    const album = freshAlbum("DOCS");
    const source = await uploaded(t, { album });
    const token = await t.token(["image_duplicate"], album);

    const page = await browser.newPage();
    const problems: string[] = [];
    const origins = new Set<string>();
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    // A CSP violation is reported on the console.
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    let sentAuthorization: string | undefined;
    page.on("request", (r) => {
      origins.add(new URL(r.url()).origin);
      if (r.method() === "POST" && r.url().endsWith("/duplicate")) sentAuthorization = r.headers()["authorization"];
    });
    try {
      await page.goto(`${base}/docs`);
      const operation = page.locator("#operations-images-duplicateImage");
      await operation.waitFor({ timeout: 20_000 });
      expect((await operation.locator(".opblock-summary-path").innerText()).trim()).toBe("/api/v1/images/{id}/duplicate");

      // Authorize → the `token` (apiKey) scheme → the whole header value.
      await page.locator("button.authorize").first().click();
      const scheme = page.locator(".auth-container").filter({ has: page.locator("h4", { hasText: "token" }) }).first();
      await scheme.locator("input").fill(`Token token="${token}"`);
      await scheme.locator("button.authorize").click();
      await scheme.locator("button.btn-done").click();

      await operation.locator(".opblock-summary").click();
      await operation.locator("button.try-out__btn").click();
      await operation.locator('input[placeholder="id"]').fill(source.id);
      await operation.locator("button.execute").click();

      const live = operation.locator(".live-responses-table tbody .response-col_status");
      await expect.poll(async () => (await live.count()) > 0 && (await live.first().innerText()).trim(), { timeout: 20_000 }).toBe("200");
      const shown = await operation.locator(".live-responses-table .response-col_description pre").first().innerText();
      const copy = JSON.parse(shown) as { id: string; group_id: string; album_id: string };
      expect(copy.group_id).toBe(source.id);
      expect(copy.album_id).toBe(album);
      expect(copy.id).not.toBe(source.id);
    } finally {
      await page.close();
    }

    expect(sentAuthorization).toBe(`Token token="${token}"`);
    // The server did make the copy.
    expect(await albumCount(t, album)).toBe(2);
    expect(problems).toEqual([]);
    // Everything came from the service itself: no CDN, no online validator.
    expect([...origins]).toEqual([base]);
  }, 60_000);
});
