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
    globalSetup: ["packages/testkit/src/containers/global-setup.ts"],
  },
});
