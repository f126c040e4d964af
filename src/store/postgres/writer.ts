/**
 * Group commit on PostgreSQL: the commands queued during one event-loop turn run in one
 * transaction (store/postgres/commands.ts) and one COMMIT with synchronous_commit on; each caller
 * resolves after it. If the batch fails, its commands are run again one transaction each, so a bad
 * command fails alone and a database that is down fails them all.
 */
import type pg from "pg";
import type { CommandRunner, ResultOf, StoreCommand } from "../commands.js";
import type { Committed, RunOptions } from "../writer.js";
import { executeCommands, type PgCommandDeps, type PgEffects } from "./commands.js";
import { heedErrors } from "./pool.js";

/** Commands whose loss to a crash is harmless (see transaction()). */
const LAZY_KINDS: ReadonlySet<StoreCommand["kind"]> = new Set(["record-outcome", "count", "prune-stats"]);

interface Queued {
  command: StoreCommand;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export interface PgWriterOptions extends PgCommandDeps {
  pool: pg.Pool;
  /** Batches committing at once; later turns queue behind them. */
  maxInFlight?: number;
  /** Flush at once when this many commands are queued. */
  maxBatch?: number;
  /** How long a lazy command may wait for company (ms). */
  lazyMs?: number;
}

/** Why a command could not be run: the database is unreachable or refused the connection. */
function asStorageError(err: unknown): unknown {
  if (err instanceof Error && (err as { code?: unknown }).code === undefined) {
    // The driver reports a lost connection without a SQLSTATE: call it what it is (08006).
    return Object.assign(err, { code: "08006" });
  }
  return err;
}

export function createPgWriter(options: PgWriterOptions): CommandRunner & {
  subscribe(fn: (committed: Committed) => void): void;
  /** Publishes changes made elsewhere (other replicas' gate changes) to the subscribers. */
  publish(committed: Committed): void;
  drain(): Promise<void>;
  readonly queued: number;
} {
  const { pool } = options;
  const maxInFlight = options.maxInFlight ?? 2;
  const maxBatch = options.maxBatch ?? 1000;
  const lazyMs = options.lazyMs ?? 5;
  const subscribers: Array<(c: Committed) => void> = [];
  let queue: Queued[] = [];
  let inFlight = 0;
  let scheduled = false;
  let lazyTimer: NodeJS.Timeout | undefined;
  const idle: Array<() => void> = [];

  function publish(committed: Committed): void {
    for (const fn of subscribers) fn(committed);
  }

  async function transaction(
    commands: readonly StoreCommand[],
  ): Promise<{ results: unknown[]; effects: PgEffects }> {
    const client = heedErrors(
      await pool.connect().catch((err: unknown) => {
        throw asStorageError(err);
      }),
    );
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      // A turn of outcomes and counters alone commits without waiting for the WAL flush: lost to a
      // crash, its events are simply delivered again (at least once), as a lease run out. The next
      // durable commit flushes them too. Webhooks and operator changes always wait.
      if (commands.every((c) => LAZY_KINDS.has(c.kind)))
        await client.query("SET LOCAL synchronous_commit TO off");
      const effects: PgEffects = { counts: [], moves: [], gates: [] };
      const results = await executeCommands(client, options, commands, effects);
      await client.query("COMMIT");
      return { results, effects };
    } catch (err) {
      await client.query("ROLLBACK").catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
      });
      throw asStorageError(err);
    } finally {
      client.release(broken);
    }
  }

  async function runBatch(batch: Queued[]): Promise<void> {
    let done: { results: unknown[]; effects: PgEffects };
    try {
      done = await transaction(batch.map((q) => q.command));
    } catch (err) {
      if (batch.length === 1) {
        (batch[0] as Queued).reject(err);
        return;
      }
      // One at a time, so one bad command fails alone.
      for (const q of batch) await runBatch([q]);
      return;
    }
    // Committed: nothing after this point may run the batch again.
    publish(done.effects);
    for (const q of batch) if (q.command.kind === "record-outcome") q.command.onCommit?.();
    for (let i = 0; i < batch.length; i++) (batch[i] as Queued).resolve(done.results[i]);
  }

  function flush(): void {
    scheduled = false;
    if (lazyTimer) clearTimeout(lazyTimer);
    lazyTimer = undefined;
    while (queue.length > 0 && inFlight < maxInFlight) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      inFlight++;
      void runBatch(batch).finally(() => {
        inFlight--;
        if (queue.length > 0) schedule();
        else if (inFlight === 0) for (const w of idle.splice(0)) w();
      });
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  }

  return {
    execute<C extends StoreCommand>(command: C, runOptions?: RunOptions): Promise<ResultOf<C>> {
      return new Promise<ResultOf<C>>((resolve, reject) => {
        queue.push({ command, resolve: resolve as (v: unknown) => void, reject });
        if (queue.length >= maxBatch) flush();
        else if (runOptions?.lazy) {
          lazyTimer ??= setTimeout(flush, lazyMs);
        } else schedule();
      });
    },
    flush,
    subscribe(fn) {
      subscribers.push(fn);
    },
    publish,
    drain(): Promise<void> {
      flush();
      if (queue.length === 0 && inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
    get queued() {
      return queue.length;
    },
  };
}
