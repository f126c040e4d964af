import pg from "pg";

/** Where the PostgreSQL store lives. */
export interface PostgresTarget {
  /** A `postgres://` connection URL. */
  url: string;
  /** The schema holding hookbuffer's tables (default `public`); created when missing. */
  schema?: string;
  /** Connections in the pool. */
  max?: number;
  /** Shown in `pg_stat_activity`, so an operator can tell replicas apart. */
  applicationName?: string;
  /**
   * Commit without waiting for the WAL flush. Only for writes a crash may lose, such as a claim's
   * lease: lost, the rows are claimable again, as when a lease runs out. A later durable commit
   * flushes the WAL up to itself, these writes included.
   */
  asyncCommit?: boolean;
}

// Every int8 the store reads is an epoch ms, a seq or a count: all far below 2^53, so numbers.
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === pg.types.builtins.INT8) return (v: string) => Number(v);
    return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format);
  },
};

/** The identifier quoted for SQL text (schema names cannot be bind parameters). */
export const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

function clientConfig(target: PostgresTarget): pg.ClientConfig {
  const schema = target.schema ?? "public";
  return {
    connectionString: target.url,
    application_name: target.applicationName ?? "hookbuffer",
    // Passed at connect time, so every pooled connection resolves the tables in this schema.
    options:
      `-c search_path=${quoteIdent(schema).replaceAll(" ", "\\ ")}` +
      (target.asyncCommit === true ? " -c synchronous_commit=off" : ""),
    types,
  };
}

/**
 * A checked-out client whose connection dies emits `error`; unheard, that would end the process.
 * The query under way fails with the same error, which is what its caller handles.
 */
export function heedErrors(client: pg.PoolClient): pg.PoolClient {
  if (client.listenerCount("error") === 0) client.on("error", () => undefined);
  return client;
}

/** A pool on the store's schema, creating the schema first when it is not `public`. */
export async function createPostgresPool(target: PostgresTarget): Promise<pg.Pool> {
  if (target.schema !== undefined && target.schema !== "public") {
    const c = new pg.Client({ connectionString: target.url });
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.schema)}`);
    } catch (err) {
      // Another replica created it at the same moment: the schema is there, which is all we need.
      if ((err as { code?: string }).code !== "23505") throw err;
    } finally {
      await c.end();
    }
  }
  const pool = new pg.Pool({ ...clientConfig(target), max: target.max ?? 10 });
  // Every connection heard from the start, checked out or idle (see heedErrors).
  pool.on("connect", (client) => heedErrors(client));
  return pool;
}

/** One connection of its own (LISTEN needs one that no pool hands to another caller). */
export function createPostgresClient(target: PostgresTarget): pg.Client {
  return new pg.Client(clientConfig(target));
}

/** Runs `fn` in one transaction on one pooled connection; rolls back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = heedErrors(await pool.connect());
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    // A connection that cannot even roll back is dropped from the pool, not handed out again.
    await client.query("ROLLBACK").catch((e: unknown) => {
      broken = e instanceof Error ? e : new Error(String(e));
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

/** What the store's queries run on: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, "query"> | Pick<pg.PoolClient, "query">;
