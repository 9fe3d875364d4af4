import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "packages/*/src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // One Postgres and one S3 container for the whole run, handed to tests through `inject`.
    globalSetup: ["packages/testkit/src/containers/global-setup.ts"],
  },
});
