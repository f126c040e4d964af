import type { Database } from "better-sqlite3";

/** Per-minute counter increments, flushed as one upsert per key in the batch's transaction. */
export interface StatIncrement {
  /** Epoch ms of the counted moment; bucketed to its minute. */
  at: number;
  route: string;
  metric: string;
  detail: string;
  n: number;
}

/**
 * What a write operation may do besides SQL: count stats, stage in-memory state for the ops after
 * it, and schedule post-commit effects.
 */
export interface WriteContext {
  count(at: number, route: string, metric: string, detail?: string, n?: number): void;
  /** Runs after the batch commits (in-memory gauges, wake-ups); dropped if it rolls back. */
  afterCommit(fn: () => void): void;
  /**
   * The value staged under `key` by an earlier op of this batch, else `current` (the committed
   * in-memory value). Ops that move shared state (a route's breaker) read it here, so each sees its
   * predecessors' transitions in commit order, and a batch replayed op by op starts over from the
   * committed value instead of counting a transition twice.
   */
  staged<T>(key: object, current: T): T;
  /** Stages `value` under `key` for the later ops of this batch; undone if this op rolls back. */
  stage<T>(key: object, value: T): void;
}

export type WriteOp<T> = (ctx: WriteContext) => T;

export interface Writer {
  /** Queues `op` for the next batch; resolves with its result after the batch has committed. */
  run<T>(op: WriteOp<T>, options?: RunOptions): Promise<T>;
  /** Runs the queued batch now. */
  flush(): void;
  /** Flushes, then waits until every committed batch has been synced (for shutdown). */
  drain(): Promise<void>;
  /** Ops waiting for the next batch. */
  readonly queued: number;
}

export interface RunOptions {
  /**
   * May wait up to `lazyMs` for company. For writes nobody waits on: losing one to a crash
   * is harmless (an attempt outcome: the event is simply delivered again, at least once).
   */
  lazy?: boolean;
}

/** Concurrent WAL syncs (libuv runs them on its thread pool, four threads by default). */
const MAX_SYNCS = 2;

interface Queued {
  op: WriteOp<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export interface WriterOptions {
  db: Database;
  /** Flush at once when this many ops are queued. */
  maxBatch?: number;
  /** How long a lazy op may wait for a batch (ms). */
  lazyMs?: number;
  /**
   * Makes committed batches durable (fdatasync of the WAL). When given, callers resolve only after
   * a sync that started after their commit; batches keep committing while a sync runs.
   */
  sync?: () => Promise<void>;
  /** Called after every committed batch (e.g. to checkpoint when idle). */
  onCommit?: (ops: number) => void;
}

/**
 * Group commit. Ops queued during one event-loop turn share one transaction, so one fsync covers
 * them all (what makes `synchronous=FULL` affordable); each caller resolves only after the commit.
 * If an op throws, the batch is rolled back and replayed with a savepoint per op, so one bad op
 * fails alone. Ops must therefore keep their side effects to SQL and the context: in-memory state
 * they move is staged in the context and applied by an afterCommit effect, once
 * (docs/architecture.md#group-commit).
 */
export function createWriter(options: WriterOptions): Writer {
  const { db } = options;
  const maxBatch = options.maxBatch ?? 1000;
  const begin = db.prepare("BEGIN");
  const commit = db.prepare("COMMIT");
  const rollback = db.prepare("ROLLBACK");
  const savepoint = db.prepare("SAVEPOINT op");
  const releaseSavepoint = db.prepare("RELEASE op");
  const rollbackSavepoint = db.prepare("ROLLBACK TO op");
  const upsertMinute = db.prepare(
    `INSERT INTO stats_minute (minute, route, metric, detail, count) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (minute, route, metric, detail) DO UPDATE SET count = count + excluded.count`,
  );
  const upsertHour = db.prepare(
    `INSERT INTO stats_hour (hour, route, metric, detail, count) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (hour, route, metric, detail) DO UPDATE SET count = count + excluded.count`,
  );

  let queue: Queued[] = [];
  let scheduled = false;
  // Committed, waiting for a sync to make them durable.
  let awaitingSync: Array<() => void> = [];
  let failIfSyncFails: Array<(err: unknown) => void> = [];
  let syncing = 0;
  const drained: Array<() => void> = [];

  /**
   * Starts a sync covering everything committed so far. Up to MAX_SYNCS run at once: a batch that
   * commits while a sync is running need not wait for that sync to end before its own can start,
   * which keeps ack latency near one fdatasync under load.
   */
  function startSync(): void {
    if (syncing >= MAX_SYNCS || awaitingSync.length === 0 || !options.sync) return;
    syncing++;
    const ok = awaitingSync;
    const fail = failIfSyncFails;
    awaitingSync = [];
    failIfSyncFails = [];
    options
      .sync()
      .then(
        () => {
          for (const fn of ok) fn();
        },
        (err: unknown) => {
          // Committed but maybe not durable: refuse the ack so the provider keeps its copy.
          for (const fn of fail) fn(err);
        },
      )
      .finally(() => {
        syncing--;
        startSync();
        if (syncing === 0) for (const fn of drained.splice(0)) fn();
      });
  }
  let lazyTimer: NodeJS.Timeout | undefined;
  const lazyMs = options.lazyMs ?? 5;

  function writeStats(increments: StatIncrement[]): void {
    if (increments.length === 0) return;
    const merged = new Map<string, StatIncrement>();
    for (const inc of increments) {
      const minute = inc.at - (inc.at % 60_000);
      const key = `${minute}\u0000${inc.route}\u0000${inc.metric}\u0000${inc.detail}`;
      const seen = merged.get(key);
      if (seen) seen.n += inc.n;
      else
        merged.set(key, { at: minute, route: inc.route, metric: inc.metric, detail: inc.detail, n: inc.n });
    }
    for (const m of merged.values()) {
      upsertMinute.run(m.at, m.route, m.metric, m.detail, m.n);
      upsertHour.run(m.at - (m.at % 3_600_000), m.route, m.metric, m.detail, m.n);
    }
  }

  function runBatch(batch: Queued[], isolate: boolean): { results: unknown[]; errors: unknown[] } | null {
    const increments: StatIncrement[] = [];
    const effects: Array<() => void> = [];
    const staged = new Map<object, unknown>();
    // What each stage() replaced, so a rolled-back op's staging can be undone.
    const undo: Array<{ key: object; had: boolean; value: unknown }> = [];
    const ctx: WriteContext = {
      count: (at, route, metric, detail = "", n = 1) => increments.push({ at, route, metric, detail, n }),
      afterCommit: (fn) => effects.push(fn),
      staged: <T>(key: object, current: T): T => (staged.has(key) ? (staged.get(key) as T) : current),
      stage: (key, value) => {
        undo.push({ key, had: staged.has(key), value: staged.get(key) });
        staged.set(key, value);
      },
    };
    const results: unknown[] = new Array(batch.length);
    const errors: unknown[] = new Array(batch.length);
    begin.run();
    try {
      for (let i = 0; i < batch.length; i++) {
        const item = batch[i] as Queued;
        if (!isolate) {
          results[i] = item.op(ctx);
          continue;
        }
        const mark = [increments.length, effects.length, undo.length] as const;
        savepoint.run();
        try {
          results[i] = item.op(ctx);
          releaseSavepoint.run();
        } catch (err) {
          rollbackSavepoint.run();
          releaseSavepoint.run();
          increments.length = mark[0];
          effects.length = mark[1];
          for (const u of undo.splice(mark[2]).reverse()) {
            if (u.had) staged.set(u.key, u.value);
            else staged.delete(u.key);
          }
          errors[i] = err ?? new Error("write failed");
        }
      }
      writeStats(increments);
      commit.run();
    } catch (err) {
      if (db.inTransaction) rollback.run();
      if (!isolate && batch.length > 1) return null; // replay op by op to find the culprit
      throw err;
    }
    for (const fn of effects) fn();
    return { results, errors };
  }

  function flush(): void {
    scheduled = false;
    if (lazyTimer) {
      clearTimeout(lazyTimer);
      lazyTimer = undefined;
    }
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    let outcome: { results: unknown[]; errors: unknown[] };
    try {
      // An isolated replay never returns null: it rejects the failing ops one by one.
      outcome =
        runBatch(batch, false) ?? (runBatch(batch, true) as { results: unknown[]; errors: unknown[] });
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i] as Queued;
      const err = outcome.errors[i];
      if (err !== undefined) item.reject(err);
      else if (!options.sync) item.resolve(outcome.results[i]);
      else {
        const value = outcome.results[i];
        awaitingSync.push(() => item.resolve(value));
        failIfSyncFails.push(item.reject);
      }
    }
    startSync();
    options.onCommit?.(batch.length);
  }

  return {
    run<T>(op: WriteOp<T>, runOptions?: RunOptions): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
        if (queue.length >= maxBatch) flush();
        else if (scheduled) return;
        else if (runOptions?.lazy) lazyTimer ??= setTimeout(flush, lazyMs);
        else {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    flush,
    drain() {
      flush();
      if (syncing === 0) return Promise.resolve();
      return new Promise<void>((resolve) => drained.push(resolve));
    },
    get queued() {
      return queue.length;
    },
  };
}
