export * from "./fixtures/image.fixture.js";
export * from "./fixtures/clock.fixture.js";
