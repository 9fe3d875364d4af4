export * from "./routing.url-signer.js";
