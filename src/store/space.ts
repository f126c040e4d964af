import type { Database, Statement } from "better-sqlite3";

/** How full the database file is, as SQLite counts it (free-list pages are reusable, so not used). */
export interface SpaceUsage {
  /** Bytes in pages holding data. */
  usedBytes: number;
  /** `storage.max_db_size` rounded down to whole pages, or null when unbounded. */
  capBytes: number | null;
}

/**
 * Reads page counts for the storage cap (`PRAGMA max_page_count`, set in open.ts). Header reads:
 * no table is scanned.
 */
export function createSpaceQueries(db: Database) {
  const pageCount = db.prepare("PRAGMA page_count").pluck() as Statement<[], number>;
  const freelist = db.prepare("PRAGMA freelist_count").pluck() as Statement<[], number>;
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  const maxPages = db.pragma("max_page_count", { simple: true }) as number;
  // SQLite's own default max_page_count (4294967294 pages) means "no cap configured".
  const capped = maxPages < 0xfffffffe;
  return {
    usage(): SpaceUsage {
      return {
        usedBytes: (pageCount.get()! - freelist.get()!) * pageSize,
        capBytes: capped ? maxPages * pageSize : null,
      };
    },
  };
}

export type SpaceQueries = ReturnType<typeof createSpaceQueries>;

/**
 * Room kept free below the cap for delivery bookkeeping (status updates, attempt rows, stats): ingest
 * is refused first, so a full database can still record deliveries and so recover.
 */
export function reserveBytes(capBytes: number): number {
  return Math.max(64 * 1024, Math.floor(capBytes * 0.05));
}

/** Why ingest of `incoming` more bytes must be refused under the size cap, or null when it fits. */
export function storageRefusal(usage: SpaceUsage, incoming: number): string | null {
  if (usage.capBytes === null) return null;
  if (usage.usedBytes + incoming <= usage.capBytes - reserveBytes(usage.capBytes)) return null;
  return `database holds ${usage.usedBytes} bytes (storage.max_db_size ${usage.capBytes})`;
}
