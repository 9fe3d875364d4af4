import { defineConfig } from "vitest/config";

// Workspace packages export compiled `dist` by default; tests run on their TypeScript sources.
const conditions = ["@image-api/source"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "packages/*/src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // One Postgres and one S3 container for the whole run, handed to tests through `inject`.
    // And a scan of everything the test apps log, failing the run if a credential appears in it.
    globalSetup: ["packages/testkit/src/containers/global-setup.ts", "packages/http/test/log-scan.global.ts"],
    // Fails a test during which an HTTP test app answered outside its OpenAPI document.
    setupFiles: ["packages/http/test/openapi-setup.ts"],
  },
});
