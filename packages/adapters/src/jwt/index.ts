export * from "./jose.token-issuer.js";
