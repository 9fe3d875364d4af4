/** The few operations the repository and the migration runner need, over `pg.Pool` or PGlite alike. */
export interface SqlResult<R> {
  readonly rows: R[];
  readonly rowCount: number;
}

export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  /**
   * One statement, parameters as `$1…$n`. `name` makes it a prepared statement where the driver keeps
   * them per connection (pg), parsed and planned once; `text` must then be the same for every call.
   */
  readonly query: <R extends SqlRow = SqlRow>(text: string, params?: readonly unknown[], options?: { readonly name?: string }) => Promise<SqlResult<R>>;
  /** A parameterless script of several statements (migrations). */
  readonly exec: (script: string) => Promise<void>;
}

export interface SqlClient extends SqlExecutor {
  /** Runs `fn` on one connection between BEGIN and COMMIT; any rejection rolls back and rejects. */
  readonly transaction: <A>(fn: (tx: SqlExecutor) => Promise<A>) => Promise<A>;
  readonly close: () => Promise<void>;
  /** Connection pool occupancy, where there is a pool. */
  readonly stats?: () => { readonly total: number; readonly idle: number; readonly waiting: number };
}
