import type { Clock } from "../clock.js";
import { type Reason, Reasons, type RouteDelivery, type StatMetric } from "../model.js";
import {
  PAGE_ROWS,
  type QueueCounts,
  readInPages,
  type StatPages,
  type StatRow,
  splitWindow,
} from "../store/index.js";
import { type Percentiles, percentiles } from "./histogram.js";
import { routeStatus } from "./route-status.js";

export interface StatsQuery {
  /** Window start, epoch ms (inclusive). */
  from: number;
  /** Window end, epoch ms (exclusive). */
  to: number;
  /** Only this route, or all. */
  route: string | null;
  /** Series bucket width, ms (a multiple of one minute). */
  bucketMs: number;
}

export interface StatsDeps {
  /** The stored counters. */
  stats: StatPages;
  /** When the oldest undelivered event arrived, or null. */
  oldestOpenReceivedAt: () => number | null;
  /** Queue depth of a route (all routes for null), from the in-memory queue counts. */
  queue: (route: string | null) => QueueCounts;
  clock: Clock;
  /** Every configured route's delivery, from the deliverer. */
  routes: () => RouteDelivery[];
}

const REASONS = Object.keys(Reasons) as Reason[];

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Default series length: about a chart's width. */
export const DEFAULT_POINTS = 300;
/** Most series points one request may ask for with an explicit `bucket` (a 400 beyond). */
export const MAX_POINTS = 1000;

/**
 * Picks a series bucket so a window has at most about DEFAULT_POINTS points: the first of 1m, 5m,
 * 15m, 1h, 6h, 1d that fits, else a whole number of days. Any window, even centuries, stays small.
 */
export function defaultBucketMs(windowMs: number): number {
  const steps = [1, 5, 15, 60, 360, 1440].map((m) => m * 60_000);
  const fits = steps.find((s) => windowMs / s <= DEFAULT_POINTS);
  return fits ?? Math.ceil(windowMs / DEFAULT_POINTS / DAY) * DAY;
}

/** A counter summed over the window, by metric and detail. */
export interface CounterTotal {
  metric: StatMetric;
  detail: string;
  count: number;
}

/** A counter summed per series bucket. */
export interface CounterPoint {
  /** Bucket start, epoch ms. */
  bucket: number;
  metric: StatMetric;
  count: number;
}

/**
 * Sums the window's counters into totals and series points. Rows are read a page per event-loop
 * turn (see store/paged.ts), so a wide window costs time, not ack latency. Hour rows serve whole
 * hours when buckets are whole hours; otherwise every minute in the window is read.
 */
export async function readCounters(
  stats: StatPages,
  q: StatsQuery,
  pageRows = PAGE_ROWS,
): Promise<{ totals: CounterTotal[]; series: CounterPoint[] }> {
  const totals = new Map<string, CounterTotal>();
  const series = new Map<string, CounterPoint>();
  const parts =
    q.bucketMs % HOUR === 0
      ? splitWindow(q.from, q.to)
      : [{ table: "minute" as const, from: q.from, to: q.to }];
  for (const p of parts) {
    await readInPages(
      (after: StatRow | null, limit) => stats.page(p.table, p.from, p.to, after, limit),
      (row) => {
        if (q.route !== null && row.route !== q.route) return;
        const key = `${row.metric}\u0000${row.detail}`;
        const total = totals.get(key);
        if (total) total.count += row.count;
        else totals.set(key, { metric: row.metric, detail: row.detail, count: row.count });
        if (row.metric === "attempt_ms" || row.metric === "lag_ms") return;
        const bucket = row.at - (row.at % q.bucketMs);
        const pointKey = `${bucket}\u0000${row.metric}`;
        const point = series.get(pointKey);
        if (point) point.count += row.count;
        else series.set(pointKey, { bucket, metric: row.metric, count: row.count });
      },
      pageRows,
    );
  }
  return { totals: [...totals.values()], series: [...series.values()] };
}

/** Builds the /stats document from per-minute counters and in-memory queue counts. */
export async function buildStats(deps: StatsDeps, q: StatsQuery) {
  const counted = await readCounters(deps.stats, q);
  const now = deps.clock.now();
  const counters: Partial<Record<StatMetric, number>> = {};
  const reasons = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<Reason, number>;
  const errors = new Map<string, { reason: Reason; detail: string; count: number }>();
  const hist = { attempt_ms: new Map<string, number>(), lag_ms: new Map<string, number>() };
  for (const row of counted.totals) {
    if (row.metric in reasons) {
      const reason = row.metric as Reason;
      reasons[reason] += row.count;
      const key = `${reason}\u0000${row.detail}`;
      const seen = errors.get(key);
      if (seen) seen.count += row.count;
      else errors.set(key, { reason, detail: row.detail, count: row.count });
    } else if (row.metric === "attempt_ms" || row.metric === "lag_ms") {
      const m = hist[row.metric];
      m.set(row.detail, (m.get(row.detail) ?? 0) + row.count);
    } else {
      counters[row.metric] = (counters[row.metric] ?? 0) + row.count;
    }
  }
  const failed = REASONS.reduce((sum, r) => sum + reasons[r], 0);
  const delivered = counters.delivered ?? 0;

  const seriesMap = new Map<number, Record<string, number>>();
  for (let b = q.from - (q.from % q.bucketMs); b < q.to; b += q.bucketMs) seriesMap.set(b, {});
  for (const row of counted.series) {
    const point = seriesMap.get(row.bucket) ?? {};
    point[row.metric] = (point[row.metric] ?? 0) + row.count;
    seriesMap.set(row.bucket, point);
  }
  const series = [...seriesMap.entries()].map(([bucket, p]) => {
    const byReason = Object.fromEntries(REASONS.map((r) => [r, p[r] ?? 0])) as Record<Reason, number>;
    return {
      from: new Date(bucket).toISOString(),
      received: p.received ?? 0,
      delivered: p.delivered ?? 0,
      failed_attempts: REASONS.reduce((sum, r) => sum + byReason[r], 0),
      dead: p.dead ?? 0,
      filtered: p.filtered ?? 0,
      reasons: byReason,
    };
  });

  const queue = deps.queue(q.route);
  const oldest = deps.oldestOpenReceivedAt();
  const ms = (p: Percentiles) => ({ count: p.count, p50: p.p50, p90: p.p90, p99: p.p99 });
  const routes = deps
    .routes()
    .filter((r) => q.route === null || r.name === q.route)
    .map((r) => routeStatus(r, deps.queue(r.name)));
  return {
    generated_at: new Date(now).toISOString(),
    window: { from: new Date(q.from).toISOString(), to: new Date(q.to).toISOString(), bucket_ms: q.bucketMs },
    route: q.route,
    totals: {
      received: counters.received ?? 0,
      delivered,
      failed_attempts: failed,
      dead: counters.dead ?? 0,
      duplicates: counters.duplicate ?? 0,
      // Stored and acknowledged (so also in `received`), left undelivered by the route's filter.
      filtered: counters.filtered ?? 0,
      rejected: counters.rejected ?? 0,
      rejected_backpressure: counters.rejected_backpressure ?? 0,
      rejected_storage: counters.rejected_storage ?? 0,
    },
    success_rate: delivered + failed === 0 ? null : delivered / (delivered + failed),
    queue: {
      pending: queue.pending,
      delivering: queue.delivering,
      delivered: queue.delivered,
      dead: queue.dead,
      filtered: queue.filtered,
      open_bytes: queue.openBytes,
      // Across routes: the oldest open event is found through an index, not a scan.
      oldest_pending_age_ms: oldest === null ? 0 : Math.max(0, now - oldest),
    },
    reasons,
    errors: [...errors.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
    latency_ms: {
      delivery_lag: ms(percentiles(hist.lag_ms)),
      attempt_duration: ms(percentiles(hist.attempt_ms)),
    },
    series,
    routes,
  };
}

export type StatsReport = Awaited<ReturnType<typeof buildStats>>;
