export * from "./memory.blob-store.js";
export * from "./memory.image-repository.js";
export * from "./memory.idempotency-store.js";
