export * from "./fake-cloudinary.server.js";
