import { type StatIncrement, sumByMinute } from "../stat-increments.js";
import type { StatKey, StatRow } from "../stats.js";
import type { Queryable } from "./pool.js";

export type { StatIncrement };

const HOUR = 3_600_000;

// Minute and hour counters in one statement. The increments of a batch are summed per key first
// (an upsert cannot touch one row twice) and sorted, so concurrent replicas lock rows in one order
// and cannot deadlock.
const ADD_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[])
    AS t(minute, route, metric, detail, count)
),
minutes AS (
  INSERT INTO stats_minute AS s (minute, route, metric, detail, count)
  SELECT minute, route, metric, detail, count FROM input ORDER BY minute, route, metric, detail
  ON CONFLICT (minute, route, metric, detail) DO UPDATE SET count = s.count + EXCLUDED.count
  RETURNING 1
),
hours AS (
  INSERT INTO stats_hour AS s (hour, route, metric, detail, count)
  SELECT minute - minute % ${HOUR}, route, metric, detail, sum(count) FROM input
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (hour, route, metric, detail) DO UPDATE SET count = s.count + EXCLUDED.count
  RETURNING 1
)
SELECT (SELECT count(*) FROM minutes) AS minutes, (SELECT count(*) FROM hours) AS hours`;

/** Per-minute counters of the PostgreSQL store: upserts, so /stats on any replica is global. */
export function createPgStatQueries(db: Queryable) {
  return {
    /** Adds a batch of increments (one commit's worth) to the minute and hour counters. */
    async add(increments: readonly StatIncrement[]): Promise<void> {
      const rows = sumByMinute(increments);
      if (rows.length === 0) return;
      await db.query(ADD_SQL, [
        rows.map((r) => r.at),
        rows.map((r) => r.route),
        rows.map((r) => r.metric),
        rows.map((r) => r.detail),
        rows.map((r) => r.n),
      ]);
    },
    /** Counters of [from, to) per minute, in key order. */
    async minutes(from: number, to: number) {
      const { rows } = await db.query<{
        at: number;
        route: string;
        metric: string;
        detail: string;
        count: number;
      }>(
        `SELECT minute AS at, route, metric, detail, count FROM stats_minute
         WHERE minute >= $1 AND minute < $2 ORDER BY minute, route, metric, detail`,
        [from, to],
      );
      return rows;
    },
    /**
     * Up to `limit` counters of every route in [from, to) after the key `after`, in key order: the
     * keyset pages of the SQLite store (src/store/stats.ts), a later page seeking to the last key.
     */
    async page(
      table: "minute" | "hour",
      from: number,
      to: number,
      after: StatKey | null,
      limit: number,
    ): Promise<StatRow[]> {
      const col = table === "minute" ? "minute" : "hour";
      const select = `SELECT ${col} AS at, route, metric, detail, count FROM stats_${col}`;
      const order = `ORDER BY ${col}, route, metric, detail LIMIT`;
      if (after === null) {
        const { rows } = await db.query<StatRow>(`${select} WHERE ${col} >= $1 AND ${col} < $2 ${order} $3`, [
          from,
          to,
          limit,
        ]);
        return rows;
      }
      const { rows } = await db.query<StatRow>(
        `${select} WHERE ${col} >= $1 AND ${col} < $2 AND (${col}, route, metric, detail) > ($1, $3, $4, $5)
         ${order} $6`,
        [after.at, to, after.route, after.metric, after.detail, limit],
      );
      return rows;
    },
  };
}

export type PgStatQueries = ReturnType<typeof createPgStatQueries>;
