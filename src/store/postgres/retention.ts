import type { Queryable } from "./pool.js";

/** Finished events removed by one prune batch, per route and status (as in src/store/retention.ts). */
export interface PgPrunedGroup {
  route: string;
  status: string;
  n: number;
  /** Sum of the removed events' body sizes. */
  bytes: number;
}

// One small batch per statement, oldest first through events_finished, with the events' attempts.
// SKIP LOCKED: a row another replica holds right now is left for a later batch, so a prune never
// waits on a replica and holds its own row locks only for one short statement.
const PRUNE_EVENTS_SQL = `
WITH gone AS (
  DELETE FROM events WHERE seq IN (
    SELECT seq FROM events
    WHERE status = $1 AND finished_at IS NOT NULL AND finished_at < $2
    ORDER BY finished_at LIMIT $3
    FOR UPDATE SKIP LOCKED)
  RETURNING id, route, body_size
),
attempts_gone AS (DELETE FROM attempts WHERE event_id IN (SELECT id FROM gone) RETURNING 1),
history_gone AS (DELETE FROM event_history WHERE event_id IN (SELECT id FROM gone) RETURNING 1)
-- A data-modifying WITH runs to completion whether or not the query reads it.
SELECT route, count(*)::int AS n, sum(body_size)::bigint AS bytes FROM gone GROUP BY route`;

const PRUNE_DEDUP_SQL = `
DELETE FROM dedup WHERE (route, key) IN (
  SELECT route, key FROM dedup WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`;

const pruneStatsSql = (table: "minute" | "hour") => `
DELETE FROM stats_${table} WHERE (${table}, route, metric, detail) IN (
  SELECT ${table}, route, metric, detail FROM stats_${table} WHERE ${table} < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`;

/** Retention deletes of the PostgreSQL store, each bounded by `limit`. */
export function createPgRetentionQueries(db: Queryable) {
  return {
    /** Deletes up to `limit` events of `status` finished before `before` (epoch ms), oldest first. */
    async pruneFinished(status: string, before: number, limit: number): Promise<PgPrunedGroup[]> {
      const { rows } = await db.query<{ route: string; n: number; bytes: number }>(PRUNE_EVENTS_SQL, [
        status,
        before,
        limit,
      ]);
      return rows.map((r) => ({ route: r.route, status, n: r.n, bytes: r.bytes }));
    },
    /** Deletes up to `limit` dedup keys whose window ended by `now`. */
    async pruneDedup(now: number, limit: number): Promise<number> {
      return (await db.query(PRUNE_DEDUP_SQL, [now, limit])).rowCount ?? 0;
    },
    /** Deletes up to `limit` counters of the table older than `before` (epoch ms). */
    async pruneStats(table: "minute" | "hour", before: number, limit: number): Promise<number> {
      return (await db.query(pruneStatsSql(table), [before, limit])).rowCount ?? 0;
    },
  };
}

export type PgRetentionQueries = ReturnType<typeof createPgRetentionQueries>;
