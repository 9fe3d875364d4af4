/** A schema step, applied once, in version order, inside the runner's transaction. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}
