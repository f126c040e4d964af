import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import {
  createCheckpointer,
  createQueueCounts,
  createStore,
  createWriter,
  openDatabase,
} from "../store/index.js";
import { syncJsonIndexes } from "../store/json-indexes.js";
import { StartupError } from "./startup-error.js";

/**
 * The database and everything that writes to it: the store's queries, the group-commit writer, the
 * WAL checkpointer, and the queue counts the writer's commits move.
 */
export function openStorage(config: Config, log: Logger) {
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
    store,
    writer,
    queue,
    checkpointer,
    /** Stops checkpointing, flushes the writer and waits until every committed batch is durable. */
    async drain(): Promise<void> {
      checkpointer.stop();
      await writer.drain();
    },
    /** Closes the database and releases its lock (after everything reading it has stopped). */
    close(): void {
      opened.close();
    },
  };
}

export type Storage = ReturnType<typeof openStorage>;
