/**
 * Claimed events not yet recorded, and the arithmetic of the claim cursor. Claims walk the due
 * index in `(next_attempt_at, seq)` order; a cursor marks where a route's last claim stopped.
 */
import type { DueEvent } from "../model.js";
import type { ClaimCursor } from "../store/index.js";

/** Whether key (at, seq) comes after the cursor in claim order. */
export function isPast(at: number, seq: number, after: ClaimCursor): boolean {
  return at > after.at || (at === after.at && seq > after.seq);
}

/** The cursor moved back just far enough that (at, seq) lies past it (null stays null). */
export function rewound(after: ClaimCursor | null, at: number, seq: number): ClaimCursor | null {
  return after === null || isPast(at, seq, after) ? after : { at, seq: seq - 1 };
}

/**
 * Leases live in memory: the process lock (store/open.ts) makes this process the only deliverer,
 * so a crash simply leaves the rows pending (docs/architecture.md#lease).
 */
export function createLeases() {
  const bySeq = new Map<number, DueEvent>();
  const perRoute = new Map<string, number>();
  return {
    add(event: DueEvent): void {
      if (bySeq.has(event.seq)) return;
      bySeq.set(event.seq, event);
      perRoute.set(event.route, (perRoute.get(event.route) ?? 0) + 1);
    },
    /** Ends a lease; false if there was none. */
    delete(seq: number): boolean {
      const event = bySeq.get(seq);
      if (!event) return false;
      bySeq.delete(seq);
      perRoute.set(event.route, (perRoute.get(event.route) ?? 1) - 1);
      return true;
    },
    /** Leased events of the route (of all routes for null). */
    count(route: string | null): number {
      return route === null ? bySeq.size : (perRoute.get(route) ?? 0);
    },
    has(seq: number): boolean {
      return bySeq.has(seq);
    },
    seqs(): number[] {
      return [...bySeq.keys()];
    },
    /** The route's leased seqs a claim past `after` could meet (all of them without a cursor). */
    past(route: string, after: ClaimCursor | null): number[] {
      const seqs: number[] = [];
      for (const e of bySeq.values()) {
        if (e.route === route && (after === null || isPast(e.nextAttemptAt, e.seq, after))) seqs.push(e.seq);
      }
      return seqs;
    },
  };
}
