export * from "./hmac.url-signer.js";
