import type { Database, Statement } from "better-sqlite3";
import type { StatMetric } from "../model.js";

/** One stored counter: a minute's (or an hour's) count for a route, metric and detail. */
export interface StatRow {
  /** Start of the minute or hour, epoch ms. */
  at: number;
  route: string;
  metric: StatMetric;
  detail: string;
  count: number;
}

/** Where a page of counters ended: the next page starts after this key. */
export type StatKey = Omit<StatRow, "count">;

const HOUR = 3_600_000;

/** A window cut into whole hours (read from stats_hour) and the minute-level edges around them. */
export function splitWindow(
  from: number,
  to: number,
): Array<{ table: "minute" | "hour"; from: number; to: number }> {
  const firstHour = Math.ceil(from / HOUR) * HOUR;
  const lastHour = Math.floor(to / HOUR) * HOUR;
  if (firstHour >= lastHour) return [{ table: "minute", from, to }];
  return [
    { table: "minute" as const, from, to: firstHour },
    { table: "hour" as const, from: firstHour, to: lastHour },
    { table: "minute" as const, from: lastHour, to },
  ].filter((p) => p.from < p.to);
}

/**
 * Reads of the per-minute counters and their hourly rollup, a page at a time in primary-key order.
 * A page costs at most `limit` index entries whatever the window or the data, so a caller can
 * read any window in steps small enough not to hold up ingest. A 30-day window reads ~720 hours
 * plus at most two partial hours of minutes.
 */
export function createStatQueries(db: Database) {
  // The first page seeks to `from`; later ones seek to the last key's time (the index range) and
  // then skip that time's rows up to the key itself, so no page rescans what earlier pages read.
  const pageSql = (table: "minute" | "hour", after: boolean) =>
    `SELECT ${table} AS at, route, metric, detail, count FROM stats_${table}
     WHERE ${table} >= ${after ? "@at" : "@from"} AND ${table} < @to
       ${after ? `AND (${table}, route, metric, detail) > (@at, @route, @metric, @detail)` : ""}
     ORDER BY ${table}, route, metric, detail LIMIT @limit`;
  type First = { from: number; to: number; limit: number };
  type Next = StatKey & { to: number; limit: number };
  const first = {
    minute: db.prepare(pageSql("minute", false)) as Statement<First, StatRow>,
    hour: db.prepare(pageSql("hour", false)) as Statement<First, StatRow>,
  };
  const next = {
    minute: db.prepare(pageSql("minute", true)) as Statement<Next, StatRow>,
    hour: db.prepare(pageSql("hour", true)) as Statement<Next, StatRow>,
  };
  return {
    /**
     * Up to `limit` counters of every route in [from, to) after `after` (null: from the start).
     * Routes are not filtered here, so a page never scans more rows than it returns.
     */
    page(
      table: "minute" | "hour",
      from: number,
      to: number,
      after: StatKey | null,
      limit: number,
    ): StatRow[] {
      if (after === null) return first[table].all({ from, to, limit });
      const { at, route, metric, detail } = after;
      return next[table].all({ at, route, metric, detail, to, limit });
    },
  };
}

export type StatQueries = ReturnType<typeof createStatQueries>;
