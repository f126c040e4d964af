import type { StatMetric } from "../model.js";

/** Per-minute counter increments, flushed as one upsert per key in the batch's transaction. */
export interface StatIncrement {
  /** Epoch ms of the counted moment; bucketed to its minute. */
  at: number;
  route: string;
  metric: StatMetric;
  detail: string;
  n: number;
}

/**
 * A batch's increments summed per (minute, route, metric, detail), `at` set to the minute: one
 * upsert per key, since an upsert cannot touch one row twice in a statement. Both stores use it.
 */
export function sumByMinute(increments: readonly StatIncrement[]): StatIncrement[] {
  const merged = new Map<string, StatIncrement>();
  for (const inc of increments) {
    const minute = inc.at - (inc.at % 60_000);
    const key = `${minute}\u0000${inc.route}\u0000${inc.metric}\u0000${inc.detail}`;
    const seen = merged.get(key);
    if (seen) seen.n += inc.n;
    else merged.set(key, { at: minute, route: inc.route, metric: inc.metric, detail: inc.detail, n: inc.n });
  }
  return [...merged.values()];
}
