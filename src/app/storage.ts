import type { Logger } from "pino";
import { createSqliteEventReads, type MemoryLeases } from "../admin/event-reads.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config/index.js";
import { type ClaimSource, createClaims } from "../deliver/claims.js";
import { createIdFactory } from "../ids.js";
import {
  type Checkpointer,
  type CommandRunner,
  type Committed,
  createCheckpointer,
  createQueueCounts,
  createSqliteCommands,
  createStore,
  createWriter,
  type EventReads,
  openDatabase,
  type QueueCounts,
  type StatPages,
  type Store,
  type StoredGate,
} from "../store/index.js";
import { syncJsonIndexes } from "../store/json-indexes.js";
import { StartupError } from "./startup-error.js";

/**
 * The store the rest of hookbuffer runs on, whichever it is: its write commands, what they
 * committed, the queue counts, the claim side for the deliverer and the reads of the admin API
 * and /stats. SQLite (one process, one file) or PostgreSQL (replicas sharing one database)
 * (docs/architecture.md#store-commands).
 */
export interface Storage {
  readonly kind: "sqlite" | "postgres";
  commands: CommandRunner;
  /** Every committed change: this process's, and on a shared store the gate changes others made. */
  subscribe(fn: (committed: Committed) => void): void;
  queue: {
    /** The route's counts (all for null), with `leased` pending events shown as delivering where leases live in memory. */
    get(route: string | null, leased?: number): QueueCounts;
    /** Stored events not yet finished, and the bytes they hold. */
    open(): { events: number; bytes: number };
  };
  /** The routes' saved gates at start. */
  gates: readonly StoredGate[];
  /** Due events of a route, up to `cap`. */
  countDue(route: string, now: number, cap: number): number;
  stats: StatPages;
  /** When the oldest undelivered event arrived, or null. */
  oldestOpenReceivedAt(): number | null;
  /** The claim side the deliverer runs on. */
  claims: ClaimSource;
  /** The admin API's event reads; `leases`: the deliverer's, where the store keeps them in memory. */
  eventReads(leases: MemoryLeases): EventReads;
  /** Brings the views (queue counts, gates) up to date: a shared store reads them again now. */
  current(): Promise<void>;
  /** Starts what runs in the background (a shared store's wake-ups); `wake` reaches the deliverer. */
  start(wake: { stored(): void; changed(): void }): void;
  /** The SQLite file's own parts (size cap, checkpointer, file watch); null on PostgreSQL. */
  sqlite: { store: Store; checkpointer: Checkpointer } | null;
  /** Flushes and waits until everything committed is durable. */
  drain(): Promise<void>;
  /** Closes the database (after everything reading it has stopped). */
  close(): Promise<void>;
}

/** Opens the configured store: PostgreSQL when `storage.url` is set, else the SQLite file. */
export async function openStorage(config: Config, log: Logger, clock: Clock): Promise<Storage> {
  const { url } = config.storage;
  if (url !== null) {
    const { openPostgresStorage } = await import("./storage-postgres.js");
    return openPostgresStorage(config, log, clock, url);
  }
  return openSqliteStorage(config, log, clock);
}

/**
 * The SQLite file and everything that writes to it: the store's queries, the group-commit writer,
 * the WAL checkpointer, and the queue counts the writer's commits move.
 */
export function openSqliteStorage(config: Config, log: Logger, clock: Clock): Storage {
  const opened = openDatabase({
    path: config.storage.path,
    synchronous: config.storage.synchronous,
    maxDbSizeBytes: config.storage.maxDbSize,
    syncOffThread: true,
  });
  const store = createStore(opened.db);
  try {
    const indexes = syncJsonIndexes(
      opened.db,
      config.routes.flatMap((r) => r.index.map((pointer) => ({ route: r.name, pointer }))),
    );
    if (indexes.created.length + indexes.dropped.length > 0) log.info(indexes, "search indexes updated");
  } catch (err) {
    opened.close();
    throw new StartupError(`cannot build the search indexes (routes[].index): ${(err as Error).message}`, {
      cause: err,
    });
  }
  const checkpointer = createCheckpointer({
    db: opened.db,
    walPath: `${config.storage.path}-wal`,
    backgroundPath: config.storage.path,
    onError: (err) => log.warn({ err }, "WAL checkpoint failed; retrying after the next commit"),
  });
  const writer = createWriter({
    db: opened.db,
    onCommit: () => checkpointer.onCommit(),
    ...(opened.walSync ? { sync: opened.walSync.sync } : {}),
  });
  const queue = createQueueCounts({ initial: store.events.countByStatus(), writer });
  return {
    kind: "sqlite",
    commands: createSqliteCommands({ store, writer, clock, ids: createIdFactory() }),
    subscribe: (fn) => writer.subscribe(fn),
    queue,
    gates: store.gates.all(),
    countDue: (route, now, cap) => store.events.countDue(route, now, cap),
    stats: store.stats,
    oldestOpenReceivedAt: () => store.events.oldestOpenReceivedAt(),
    claims: createClaims({ store, clock }),
    eventReads: (leases) => createSqliteEventReads(store, leases),
    // Counted in memory from this process's commits: always current.
    current: async () => undefined,
    // New events wake the deliverer from the ingest path itself: nothing runs in the background.
    start: () => undefined,
    sqlite: { store, checkpointer },
    async drain(): Promise<void> {
      checkpointer.stop();
      await writer.drain();
    },
    async close(): Promise<void> {
      opened.close();
    },
  };
}
