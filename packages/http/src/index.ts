export { createApp } from "./app.js";
export type { AppDeps } from "./deps.js";
export { loadConfig, type Config } from "./config.js";
export { compose, TOKENS, type Composition } from "./container.js";
export { startServer, type RunningServer } from "./server.js";
export { presentImage } from "./present/image.presenter.js";
