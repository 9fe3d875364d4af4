export * from "./hmac.token-issuer.js";
export type { TokenSecrets } from "./keyring.js";
