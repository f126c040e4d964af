import { statfs } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Free space on the filesystem holding the database, watched only after a write failed for lack
 * of it (SQLITE_FULL from a real disk full, not the `max_db_size` cap). While it stays below
 * `reserveBytes`, ingest is refused like at the size cap (503 + Retry-After), so the provider
 * keeps its webhooks instead of hookbuffer failing every commit.
 */
export function createFilesystemSpace(options: {
  dbPath: string;
  reserveBytes?: number;
  /** How often the free space is read while short (ms). */
  pollMs?: number;
  statfs?: (dir: string) => Promise<{ bavail: number; bsize: number }>;
}) {
  const dir = dirname(options.dbPath);
  const reserve = options.reserveBytes ?? 1024 * 1024;
  const pollMs = options.pollMs ?? 1_000;
  const read = options.statfs ?? ((d: string) => statfs(d));
  let short: number | null = null;
  let checking = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function check(): Promise<void> {
    if (checking || stopped) return;
    checking = true;
    try {
      const s = await read(dir);
      const free = s.bavail * s.bsize;
      short = free < reserve ? free : null;
    } catch {
      // statfs failing says nothing about space; keep the last answer.
    } finally {
      checking = false;
    }
    if (short !== null && !stopped) {
      timer ??= setTimeout(() => {
        timer = undefined;
        void check();
      }, pollMs);
    }
  }

  return {
    /** A write failed for space: read the free space now, and keep reading while it is short. */
    check(): void {
      void check();
    },
    /** Why ingest must be refused for lack of disk space, or null. */
    refusal(): string | null {
      return short === null ? null : `the filesystem holding ${dir} has ${short} bytes free`;
    },
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

export type FilesystemSpace = ReturnType<typeof createFilesystemSpace>;
