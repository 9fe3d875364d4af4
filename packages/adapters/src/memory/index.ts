export * from "./memory.blob-store.js";
export * from "./memory.image-repository.js";
