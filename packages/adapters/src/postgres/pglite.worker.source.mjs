// The worker's entry when the client runs from its TypeScript sources (vitest, tsx). A worker does not
// inherit the loader hooks of the thread that starts it, and on Node 20 a `--import` in its execArgv
// does not apply to its entry module either, so it registers tsx itself before loading the .ts worker.
// Compiled builds start pglite.worker.js directly and never load this file.
import { register } from "tsx/esm/api";

register();
await import("./pglite.worker.ts");
