import { parse, protocol, type PGlite, type Results } from "@electric-sql/pglite";

const { serialize } = protocol;

interface Prepared {
  readonly text: string;
  /** The parameters' type OIDs, as Postgres inferred them: they choose each value's serializer. */
  readonly types: readonly number[];
}

/** SQLSTATEs of a statement gone stale: dropped (DEALLOCATE, DISCARD), or its result columns changed by DDL. */
const STALE = new Set(["26000", "0A000"]);

type BackendMessages = Awaited<ReturnType<PGlite["execProtocolStream"]>>;

/**
 * Named prepared statements on PGlite, whose `query` parses, analyses and plans every statement afresh.
 * A named statement is parsed once per database; each call then only binds and executes it. Every plan
 * is still made with the call's values (plan_cache_mode=force_custom_plan, set by the caller). Each call
 * speaks the extended protocol as `query` does (same serializers and parsers, same errors carrying the
 * statement and its parameters, same locks), so results are the same.
 *
 * Undefined when this PGlite lacks the locks `query` takes (`query` is then used for every call).
 */
export const namedStatements = (
  db: PGlite,
): ((name: string, text: string, params: readonly unknown[], inTransaction: boolean) => Promise<Results>) | undefined => {
  if (typeof db._runExclusiveQuery !== "function" || typeof db._runExclusiveTransaction !== "function" || typeof db._checkReady !== "function") return undefined;
  const prepared = new Map<string, Prepared>();

  const send = (message: Uint8Array): Promise<BackendMessages> => db.execProtocolStream(message, { syncToFs: false });

  /** As PGlite's own query does, a database error names the statement and its parameters. */
  const located = (e: unknown, text: string, params: readonly unknown[] | undefined): unknown =>
    e instanceof protocol.messages.DatabaseError ? Object.assign(e, { query: text, params, queryOptions: undefined }) : e;

  /** Between protocol steps that may fail: afterwards, Sync ends the failed exchange and the error is thrown. */
  const exchange = async (text: string, params: readonly unknown[] | undefined, steps: () => Promise<BackendMessages>): Promise<BackendMessages> => {
    let messages: BackendMessages = [];
    try {
      messages = await steps();
    } catch (e) {
      throw located(e, text, params);
    } finally {
      messages.push(...(await send(serialize.sync())));
    }
    return messages;
  };

  const prepare = async (name: string, text: string, params: readonly unknown[]): Promise<Prepared> => {
    prepared.delete(name);
    const described = await exchange(text, params, async () => {
      // Closing a statement that does not exist is no error; one that does (other text, stale) is replaced.
      await send(serialize.close({ type: "S", name }));
      await send(serialize.parse({ name, text }));
      return send(serialize.describe({ type: "S", name }));
    });
    const statement = { text, types: parse.parseDescribeStatementResults(described) };
    prepared.set(name, statement);
    return statement;
  };

  const execute = (name: string, statement: Prepared, params: readonly unknown[]): Promise<BackendMessages> => {
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const type = statement.types[i];
      const serializer = type === undefined ? undefined : db.serializers[type];
      return serializer ? serializer(value) : String(value);
    });
    return exchange(statement.text, params, async () => [
      ...(await send(serialize.bind({ statement: name, values }))),
      ...(await send(serialize.describe({ type: "P" }))),
      ...(await send(serialize.execute({}))),
    ]);
  };

  const run = async (name: string, text: string, params: readonly unknown[], inTransaction: boolean): Promise<Results> => {
    const known = prepared.get(name);
    let messages: BackendMessages;
    try {
      messages = await execute(name, known?.text === text ? known : await prepare(name, text, params), params);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (!(typeof code === "string" && STALE.has(code))) throw e;
      prepared.delete(name);
      // Inside a transaction the failure has aborted it; outside, nothing happened and it is safe to go again.
      if (inTransaction) throw e;
      messages = await execute(name, await prepare(name, text, params), params);
    }
    if (!inTransaction) await db.syncToFs();
    return parse.parseResults(messages, db.parsers)[0]!;
  };

  // The locks of PGlite's query: outside a transaction a statement waits for the open one (and for the
  // statements before it); inside, it runs in it.
  return async (name, text, params, inTransaction) => {
    const statement = () => db._runExclusiveQuery(() => run(name, text, params, inTransaction));
    if (inTransaction) return statement();
    await db._checkReady();
    return db._runExclusiveTransaction(statement);
  };
};
