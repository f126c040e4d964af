import type { Database, Statement } from "better-sqlite3";

export interface StatTotalRow {
  route: string;
  metric: string;
  detail: string;
  count: number;
}

export interface StatSeriesRow {
  /** Bucket start, epoch ms. */
  bucket: number;
  metric: string;
  count: number;
}

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
 * Reads of the per-minute counters and their hourly rollup. A 30-day window reads ~720 hours plus
 * at most two partial hours of minutes, so its cost does not grow with minute resolution.
 */
export function createStatQueries(db: Database) {
  const totalsSql = (table: "minute" | "hour") =>
    `SELECT route, metric, detail, SUM(count) AS count FROM stats_${table}
     WHERE ${table} >= @from AND ${table} < @to AND (@route IS NULL OR route = @route)
     GROUP BY route, metric, detail`;
  const seriesSql = (table: "minute" | "hour") =>
    `SELECT ${table} - (${table} % @bucket) AS bucket, metric, SUM(count) AS count FROM stats_${table}
     WHERE ${table} >= @from AND ${table} < @to AND (@route IS NULL OR route = @route)
       AND metric NOT IN ('attempt_ms', 'lag_ms')
     GROUP BY bucket, metric`;
  type Range = { from: number; to: number; route: string | null };
  const totals = {
    minute: db.prepare(totalsSql("minute")) as Statement<Range, StatTotalRow>,
    hour: db.prepare(totalsSql("hour")) as Statement<Range, StatTotalRow>,
  };
  const series = {
    minute: db.prepare(seriesSql("minute")) as Statement<Range & { bucket: number }, StatSeriesRow>,
    hour: db.prepare(seriesSql("hour")) as Statement<Range & { bucket: number }, StatSeriesRow>,
  };
  return {
    /** Counts per (route, metric, detail) in [from, to); rows of different parts are not merged. */
    totals(from: number, to: number, route: string | null): StatTotalRow[] {
      return splitWindow(from, to).flatMap((p) => totals[p.table].all({ from: p.from, to: p.to, route }));
    },
    /** Counts per bucket and metric; hour rows are used only when buckets are whole hours. */
    series(from: number, to: number, route: string | null, bucketMs: number): StatSeriesRow[] {
      const parts = bucketMs % HOUR === 0 ? splitWindow(from, to) : [{ table: "minute" as const, from, to }];
      return parts.flatMap((p) => series[p.table].all({ from: p.from, to: p.to, route, bucket: bucketMs }));
    },
  };
}

export type StatQueries = ReturnType<typeof createStatQueries>;
