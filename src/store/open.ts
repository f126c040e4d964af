import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Synchronous } from "../config/types.js";
import { migrate } from "./migrations.js";
import { createWalSync, type WalSync } from "./wal-sync.js";

export interface OpenOptions {
  /** Database file path; its directory is created if missing. */
  path: string;
  /** `full` survives power loss; `normal` survives process crashes only. */
  synchronous: Synchronous;
  /** `storage.max_db_size` in bytes: SQLite refuses to grow the file past it (SQLITE_FULL). */
  maxDbSizeBytes?: number | null;
  /**
   * With `full`: let SQLite commit at NORMAL and return a WalSync that the writer runs after each
   * commit, off the event loop (see wal-sync.ts). Without it, `full` syncs inside every commit.
   */
  syncOffThread?: boolean;
}

/** Raised when another process holds the database. */
export class DatabaseLockedError extends Error {
  override readonly name = "DatabaseLockedError";
}

/**
 * Opens (creating if needed) the database with hookbuffer's pragmas and runs migrations.
 * The file is created 0600 before SQLite touches it; SQLite gives the WAL and SHM files the
 * same mode as the database file.
 */
export interface OpenedDatabase {
  db: Database.Database;
  /** For `full` with `syncOffThread`: what the writer must run after each commit; else null. */
  walSync: WalSync | null;
  /** Closes the database, then releases the process lock. */
  close(): void;
}

export function openDatabase(options: OpenOptions): OpenedDatabase {
  // A directory we create is ours alone: in a world-writable one anyone could swap the -wal file
  // or the database itself between runs (mode 0700 is not widened by a permissive umask).
  mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
  closeSync(openSync(options.path, "a", 0o600));
  const lock = acquireLock(`${options.path}.lock`);
  let db: Database.Database;
  try {
    db = new Database(options.path, { timeout: 5000 });
  } catch (err) {
    lock.close();
    throw err;
  }
  try {
    db.pragma("journal_mode = WAL");
    const inline = options.synchronous === "full" && !options.syncOffThread;
    db.pragma(`synchronous = ${inline ? "FULL" : "NORMAL"}`);
    // Checkpoints run off the ack path (see checkpoint.ts), never inside an ingest commit.
    db.pragma("wal_autocheckpoint = 0");
    db.pragma("foreign_keys = OFF");
    db.pragma("temp_store = MEMORY");
    db.pragma("cache_size = -32000");
    // Keep a reused WAL file from staying at its high-water mark forever.
    db.pragma("journal_size_limit = 67108864");
    migrate(db);
    // After migrating, so a tiny cap cannot stop the schema itself. SQLite keeps the current page
    // count if the cap is below it; ingest then stays refused until retention frees pages.
    if (options.maxDbSizeBytes != null) {
      const pageSize = db.pragma("page_size", { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxDbSizeBytes / pageSize))}`);
    }
  } catch (err) {
    db.close();
    lock.close();
    throw err;
  }
  const walSync =
    options.synchronous === "full" && options.syncOffThread ? createWalSync(`${options.path}-wal`) : null;
  return {
    db,
    walSync,
    close() {
      walSync?.close();
      if (db.open) db.close();
      lock.close();
    },
  };
}

/**
 * One hookbuffer per database: two deliverers sharing leases would double-deliver. The lock is an
 * exclusive SQLite lock on a side file, so the kernel drops it when the process dies (even on
 * kill -9), while the database itself stays in normal locking mode and can be checkpointed or
 * inspected by other connections.
 */
function acquireLock(path: string): Database.Database {
  closeSync(openSync(path, "a", 0o600));
  const lock = new Database(path, { timeout: 0 });
  try {
    lock.pragma("locking_mode = EXCLUSIVE");
    lock.exec("BEGIN EXCLUSIVE; COMMIT;");
  } catch (err) {
    lock.close();
    const code = (err as { code?: unknown }).code;
    if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
      throw new DatabaseLockedError(
        `database ${path.slice(0, -".lock".length)} is in use by another process (is another hookbuffer running on it?)`,
        { cause: err },
      );
    }
    throw err;
  }
  return lock;
}
