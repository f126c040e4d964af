import type { Database, Statement } from "better-sqlite3";

/** Statuses retention removes; filtered events are kept as long as delivered ones. */
export type FinishedStatus = "delivered" | "dead" | "filtered";

/** Finished events removed by one prune batch, per route, so in-memory gauges can follow. */
export interface PrunedGroup {
  route: string;
  status: FinishedStatus;
  n: number;
  /** Sum of the removed events' body sizes. */
  bytes: number;
}

interface FinishedRow {
  seq: number;
  id: string;
  route: string;
  body_size: number;
}

/**
 * Retention deletes, each bounded by `limit` so a caller can run them as many small writer ops and
 * let ingest batches in between. Oldest first through the `events_finished (status, finished_at)`
 * and `dedup_expiry` indexes and the stats primary key, so a batch never scans history.
 */
export function createRetentionQueries(db: Database) {
  const finished = db.prepare(
    `SELECT seq, id, route, body_size FROM events
     WHERE status = ? AND finished_at IS NOT NULL AND finished_at < ?
     ORDER BY finished_at LIMIT ?`,
  ) as Statement<[string, number, number], FinishedRow>;
  const deleteEvent = db.prepare("DELETE FROM events WHERE seq = ?");
  const deleteAttempts = db.prepare("DELETE FROM attempts WHERE event_id = ?");
  const deleteHistory = db.prepare("DELETE FROM event_history WHERE event_id = ?");
  const deleteStats = db.prepare(
    `DELETE FROM stats_minute WHERE (minute, route, metric, detail) IN
       (SELECT minute, route, metric, detail FROM stats_minute WHERE minute < ? LIMIT ?)`,
  );

  return {
    /**
     * Deletes up to `limit` events of `status` finished before `before` (epoch ms), oldest first,
     * with their attempts and history. Pass Number.MAX_SAFE_INTEGER to ignore age (storage pressure).
     */
    pruneFinished(status: FinishedStatus, before: number, limit: number): PrunedGroup[] {
      const groups = new Map<string, PrunedGroup>();
      for (const row of finished.all(status, before, limit)) {
        deleteAttempts.run(row.id);
        deleteHistory.run(row.id);
        deleteEvent.run(row.seq);
        const g = groups.get(row.route) ?? { route: row.route, status, n: 0, bytes: 0 };
        g.n += 1;
        g.bytes += row.body_size;
        groups.set(row.route, g);
      }
      return [...groups.values()];
    },
    /** Deletes up to `limit` per-minute stat buckets older than `before` (epoch ms). */
    pruneStats(before: number, limit: number): number {
      return deleteStats.run(before, limit).changes;
    },
  };
}

export type RetentionQueries = ReturnType<typeof createRetentionQueries>;
