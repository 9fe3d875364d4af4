export * from "./s3.client.js";
export * from "./s3.blob-store.js";
export * from "./s3.url-signer.js";
export { contentDisposition } from "./s3.content-disposition.js";
