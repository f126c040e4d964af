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

/** Reads of the per-minute counters written by the group-commit writer. */
export function createStatQueries(db: Database) {
  const totals = db.prepare(
    `SELECT route, metric, detail, SUM(count) AS count FROM stats_minute
     WHERE minute >= @from AND minute < @to AND (@route IS NULL OR route = @route)
     GROUP BY route, metric, detail`,
  ) as Statement<{ from: number; to: number; route: string | null }, StatTotalRow>;
  const series = db.prepare(
    `SELECT minute - (minute % @bucket) AS bucket, metric, SUM(count) AS count FROM stats_minute
     WHERE minute >= @from AND minute < @to AND (@route IS NULL OR route = @route)
       AND metric NOT LIKE '%\\_ms' ESCAPE '\\'
     GROUP BY bucket, metric ORDER BY bucket`,
  ) as Statement<{ from: number; to: number; route: string | null; bucket: number }, StatSeriesRow>;
  return {
    totals(from: number, to: number, route: string | null): StatTotalRow[] {
      return totals.all({ from, to, route });
    },
    series(from: number, to: number, route: string | null, bucketMs: number): StatSeriesRow[] {
      return series.all({ from, to, route, bucket: bucketMs });
    },
  };
}

export type StatQueries = ReturnType<typeof createStatQueries>;
