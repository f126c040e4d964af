import type { Database } from "better-sqlite3";
import type { Gate } from "../gate.js";
import type { EventStatus, StatMetric } from "../model.js";
import { createGateQueries } from "./gates.js";
import { type StatIncrement, sumByMinute } from "./stat-increments.js";

export type { StatIncrement };

/**
 * `n` events holding `bytes` in all leave `from` and enter `to` (null: not stored before, or no
 * longer stored). `n` 0 with `from` null: events already in `to` now hold `bytes` more.
 */
export interface QueueMove {
  route: string;
  from: EventStatus | null;
  to: EventStatus | null;
  bytes: number;
  n: number;
}

/** A route's gate moved (and was saved) from `before` to `after`. */
export interface GateChange {
  route: string;
  before: Gate;
  after: Gate;
}

/**
 * What one committed batch changed besides its rows, in commit order. Every in-memory effect of a
 * state change (queue counts, /metrics counters, the deliverer's gates) is applied from this, once,
 * after the commit; a batch replayed op by op records only the ops that committed.
 */
export interface Committed {
  counts: readonly StatIncrement[];
  moves: readonly QueueMove[];
  gates: readonly GateChange[];
}

/**
 * What a write operation may do besides SQL: record the state changes it makes (counters, queue
 * moves, gate changes) and schedule post-commit effects. Ops keep every other side effect out: the
 * recorded changes are applied after the commit, from the records (see Committed).
 */
export interface WriteContext {
  /** Counts `n` under `metric` for the route's minute of `at` (stats_minute, /metrics). */
  count(at: number, route: string, metric: StatMetric, detail?: string, n?: number): void;
  /** Records events changing status (see QueueMove); the queue counts follow after the commit. */
  moved(route: string, from: EventStatus | null, to: EventStatus | null, bytes: number, n?: number): void;
  /**
   * The route's gate as an earlier op of this batch set it, else `committed` (the in-memory value).
   * Each op sees its predecessors' transitions in commit order, and a batch replayed op by op
   * starts over from the committed value instead of counting a transition twice.
   */
  gate(route: string, committed: Gate): Gate;
  /** Saves the route's gate (routes_state) and records the change from `before`. */
  setGate(route: string, before: Gate, after: Gate, at: number): void;
  /** Runs after the batch commits (wake-ups, settling leases); dropped if it rolls back. */
  afterCommit(fn: () => void): void;
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
  /** Calls `fn` with what every committed batch changed, after its commit and before its afterCommit effects. */
  subscribe(fn: (committed: Committed) => void): void;
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
 * fails alone. Ops must therefore keep their side effects to SQL and the context: the changes they
 * record are handed to the subscribers once the batch has committed, and only those of ops that did
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

  const gates = createGateQueries(db);
  const subscribers: Array<(committed: Committed) => void> = [];

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
    for (const m of sumByMinute(increments)) {
      upsertMinute.run(m.at, m.route, m.metric, m.detail, m.n);
      upsertHour.run(m.at - (m.at % 3_600_000), m.route, m.metric, m.detail, m.n);
    }
  }

  function runBatch(batch: Queued[], isolate: boolean): { results: unknown[]; errors: unknown[] } | null {
    const counts: StatIncrement[] = [];
    const moves: QueueMove[] = [];
    const gateChanges: GateChange[] = [];
    const effects: Array<() => void> = [];
    const ctx: WriteContext = {
      count: (at, route, metric, detail = "", n = 1) => counts.push({ at, route, metric, detail, n }),
      moved: (route, from, to, bytes, n = 1) => moves.push({ route, from, to, bytes, n }),
      gate(route, committed) {
        for (let i = gateChanges.length - 1; i >= 0; i--) {
          const c = gateChanges[i] as GateChange;
          if (c.route === route) return c.after;
        }
        return committed;
      },
      setGate(route, before, after, at) {
        gates.save({ route, ...after, updatedAt: at });
        gateChanges.push({ route, before, after });
      },
      afterCommit: (fn) => effects.push(fn),
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
        // What this op may record: dropped with it if it rolls back.
        const mark = [counts.length, moves.length, gateChanges.length, effects.length] as const;
        savepoint.run();
        try {
          results[i] = item.op(ctx);
          releaseSavepoint.run();
        } catch (err) {
          rollbackSavepoint.run();
          releaseSavepoint.run();
          counts.length = mark[0];
          moves.length = mark[1];
          gateChanges.length = mark[2];
          effects.length = mark[3];
          errors[i] = err ?? new Error("write failed");
        }
      }
      writeStats(counts);
      commit.run();
    } catch (err) {
      if (db.inTransaction) rollback.run();
      if (!isolate && batch.length > 1) return null; // replay op by op to find the culprit
      throw err;
    }
    if (subscribers.length > 0 && counts.length + moves.length + gateChanges.length > 0) {
      const committed: Committed = { counts, moves, gates: gateChanges };
      for (const fn of subscribers) fn(committed);
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
    subscribe(fn) {
      subscribers.push(fn);
    },
  };
}
