import type { EventStatus } from "../model.js";

export interface QueueCounts {
  pending: number;
  delivering: number;
  delivered: number;
  dead: number;
  /** Stored but left undelivered by the route's filter. */
  filtered: number;
  /** Bytes held by events not yet finished (pending + delivering): bodies and stored responses. */
  openBytes: number;
}

/**
 * Queue depth per route kept in memory: counted once from the database at start, then moved on
 * every committed status change, so /stats, /metrics and backpressure never scan the backlog.
 */
export function createQueueGauges(
  initial: Array<{ route: string; status: EventStatus; n: number; bytes: number }>,
) {
  const byRoute = new Map<string, QueueCounts>();
  const totals: QueueCounts = { pending: 0, delivering: 0, delivered: 0, dead: 0, filtered: 0, openBytes: 0 };
  const of = (route: string): QueueCounts => {
    let counts = byRoute.get(route);
    if (!counts) {
      counts = { pending: 0, delivering: 0, delivered: 0, dead: 0, filtered: 0, openBytes: 0 };
      byRoute.set(route, counts);
    }
    return counts;
  };
  const apply = (route: string, status: EventStatus, n: number, bytes: number): void => {
    const counts = of(route);
    counts[status] += n;
    totals[status] += n;
    if (status === "pending" || status === "delivering") {
      counts.openBytes += bytes;
      totals.openBytes += bytes;
    }
  };
  for (const row of initial) apply(row.route, row.status, row.n, row.bytes);

  return {
    /** Counts a new event in `status`. */
    add(route: string, status: EventStatus, bytes: number, n = 1): void {
      apply(route, status, n, n * bytes);
    },
    /** Moves one event between statuses. */
    move(route: string, from: EventStatus, to: EventStatus, bytes: number): void {
      if (from === to) return;
      apply(route, from, -1, -bytes);
      apply(route, to, 1, bytes);
    },
    /** An event in `status` now holds `bytes` more (a stored upstream response). */
    grow(route: string, status: EventStatus, bytes: number): void {
      apply(route, status, 0, bytes);
    },
    /** Forgets events (pruned or discarded). */
    remove(route: string, status: EventStatus, bytes: number, n = 1): void {
      apply(route, status, -n, -n * bytes);
    },
    get(route: string | null): QueueCounts {
      return { ...(route === null ? totals : of(route)) };
    },
  };
}

export type QueueGauges = ReturnType<typeof createQueueGauges>;
