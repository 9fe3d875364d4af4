import type { IdempotencyStore, ImageRepository } from "@image-api/core";
import { idempotencyContract, imageRepositoryContract } from "@image-api/testkit";
import { describe, test as base } from "vitest";
import { memoryIdempotencyStore, type MemoryIdempotencyRecords } from "../src/memory/memory.idempotency-store.js";
import { memoryImageRepository } from "../src/memory/memory.image-repository.js";

const test = base.extend<{ records: MemoryIdempotencyRecords; repo: ImageRepository; idempotency: IdempotencyStore }>({
  records: async ({}, use) => {
    await use(new Map());
  },
  repo: async ({ records }, use) => {
    await use(memoryImageRepository(records));
  },
  idempotency: async ({ records }, use) => {
    await use(memoryIdempotencyStore(records));
  },
});

describe("memory image repository", () => imageRepositoryContract(test));
describe("memory idempotency keys", () => idempotencyContract(test));
