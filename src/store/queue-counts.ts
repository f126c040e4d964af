import { type EventStatus, EventStatuses } from "../model.js";
import type { Committed, QueueMove, Writer } from "./writer.js";

/** Events per status, and the bytes held by those not yet finished. */
export type QueueCounts = Record<EventStatus, number> & {
  /** Bytes held by events not yet finished (pending + delivering): bodies and stored responses. */
  openBytes: number;
};

const STATUSES = Object.keys(EventStatuses) as EventStatus[];
const OPEN: ReadonlySet<EventStatus> = new Set(["pending", "delivering"]);

function zero(): QueueCounts {
  const counts = { openBytes: 0 } as QueueCounts;
  for (const s of STATUSES) counts[s] = 0;
  return counts;
}

export interface QueueCountsDeps {
  /** The stored counts at start (events.countByStatus()). */
  initial: Array<{ route: string; status: EventStatus; n: number; bytes: number }>;
  /** Its commits move the counts: every status change is recorded in the write context. */
  writer: Pick<Writer, "subscribe">;
}

/**
 * Queue depth per route, as stored: counted once from the database at start, then moved by the
 * queue moves of every committed batch (WriteContext.moved), so /stats, /metrics and backpressure
 * never scan the backlog. Leased events are still pending here (their rows are); the deliverer's
 * leases say how many of them are being delivered (see `get`).
 */
export function createQueueCounts(deps: QueueCountsDeps) {
  const byRoute = new Map<string, QueueCounts>();
  const totals = zero();
  const of = (route: string): QueueCounts => {
    let counts = byRoute.get(route);
    if (!counts) {
      counts = zero();
      byRoute.set(route, counts);
    }
    return counts;
  };
  const add = (route: string, status: EventStatus, n: number, bytes: number): void => {
    const counts = of(route);
    counts[status] += n;
    totals[status] += n;
    if (OPEN.has(status)) {
      counts.openBytes += bytes;
      totals.openBytes += bytes;
    }
  };
  const apply = (m: QueueMove): void => {
    if (m.from !== null) add(m.route, m.from, -m.n, -m.bytes);
    if (m.to !== null) add(m.route, m.to, m.n, m.bytes);
  };
  for (const row of deps.initial) add(row.route, row.status, row.n, row.bytes);
  deps.writer.subscribe((c: Committed) => {
    for (const m of c.moves) apply(m);
  });

  return {
    /**
     * The route's counts (all routes for null), with `leased` of its pending events shown as
     * delivering: leases live in the deliverer's memory, the rows stay pending.
     */
    get(route: string | null, leased = 0): QueueCounts {
      const counts = { ...(route === null ? totals : of(route)) };
      counts.pending -= leased;
      counts.delivering += leased;
      return counts;
    },
    /** Stored events not yet finished (leased ones included) and the bytes they hold. */
    open(): { events: number; bytes: number } {
      return { events: totals.pending + totals.delivering, bytes: totals.openBytes };
    },
  };
}

export type QueueCountsTracker = ReturnType<typeof createQueueCounts>;
