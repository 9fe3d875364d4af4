import type { ImageRepository } from "@image-api/core";
import { imageRepositoryContract } from "@image-api/testkit";
import { describe, test as base } from "vitest";
import { memoryImageRepository } from "../src/memory/memory.image-repository.js";

const test = base.extend<{ repo: ImageRepository }>({
  repo: async ({}, use) => {
    await use(memoryImageRepository());
  },
});

describe("memory image repository", () => imageRepositoryContract(test));
