/** Source of fresh UUIDs (v4); injected so tests can be deterministic. */
export interface IdGenerator {
  readonly uuid: () => string;
}
