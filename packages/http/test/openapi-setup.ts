import { afterAll, afterEach } from "vitest";
import { takeContractFailures } from "./openapi-failures.js";

/**
 * Fails the test (or, for requests made in hooks after the last test, the file) during which an app
 * wrapped by `validated()` (openapi-validation.ts) answered with a response the OpenAPI document does
 * not describe. Registered for every test file through vitest's setupFiles.
 */
const assertNone = (): void => {
  const failures = takeContractFailures();
  if (failures.length > 0)
    throw new Error(`${failures.length} response(s) do not match the OpenAPI document (src/openapi/document.ts):\n  ${failures.join("\n  ")}`);
};

afterEach(assertNone);
afterAll(assertNone);
