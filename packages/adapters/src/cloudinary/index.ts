export * from "./cloudinary.url-signer.js";
export * from "./cloudinary.blob-store.js";
export { verifyUploadSignature, type SignedUploadParams, type VerifiedUpload, type VerifyUploadSignatureInput } from "./cloudinary.upload-signature.js";
export { transformationOf, renditionOfTransformation } from "./cloudinary.transformation.js";
export type { CloudinaryAccount } from "./cloudinary.sdk.js";
export type { SignatureAlgorithm } from "./cloudinary.signature.js";
export * from "./cloudinary.account-url.js";
export { cloudinaryUploadVerifier, type CloudinaryUploadVerifierOptions } from "./cloudinary.upload-verifier.js";
