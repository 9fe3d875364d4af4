/**
 * Responses that broke the OpenAPI document, collected while a test runs and asserted after it by
 * openapi-setup.ts. Kept apart from openapi-validation.ts so that the setup file, which runs before
 * every test file of every package, loads no validator.
 */
const failures: string[] = [];

export const reportContractFailure = (message: string): void => {
  failures.push(message);
};

/** Everything reported since the last call, and forgets it. */
export const takeContractFailures = (): string[] => failures.splice(0, failures.length);
