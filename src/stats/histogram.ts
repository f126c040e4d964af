/**
 * Latency histograms stored as per-minute counters (metric `<name>_ms`, detail = bucket upper
 * bound), so percentiles over any window cost one indexed range scan, not a pass over attempts.
 */
export const LATENCY_BUCKETS_MS = [
  5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000,
  21_600_000, 86_400_000,
] as const;

/** The detail label of the bucket `ms` falls into ("+Inf" past the last bound). */
export function bucketLabel(ms: number): string {
  for (const bound of LATENCY_BUCKETS_MS) if (ms <= bound) return String(bound);
  return "+Inf";
}

export interface Percentiles {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

/**
 * Percentiles from bucket counts, reported as the upper bound of the bucket holding the rank
 * (an upper estimate, as Prometheus' histogram_quantile would interpolate within it).
 */
export function percentiles(buckets: Map<string, number>): Percentiles {
  const ordered = [...buckets.entries()]
    .map(([label, n]) => [label === "+Inf" ? Number.POSITIVE_INFINITY : Number(label), n] as const)
    .sort((a, b) => a[0] - b[0]);
  const count = ordered.reduce((sum, [, n]) => sum + n, 0);
  const at = (q: number): number | null => {
    if (count === 0) return null;
    const rank = Math.ceil(q * count);
    let seen = 0;
    for (const [bound, n] of ordered) {
      seen += n;
      if (seen >= rank) return Number.isFinite(bound) ? bound : null;
    }
    return null;
  };
  return { count, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}
