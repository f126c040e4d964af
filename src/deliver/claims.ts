/**
 * The claim side of delivery: each route's buffer of leased, not yet sent events, read from the
 * due index past a cursor, and every way a lease ends. A leased row stays pending in the database;
 * the queue counts show the leases as delivering (`leased`). The words: docs/architecture.md#glossary.
 */
import type { Clock } from "../clock.js";
import type { DueEvent, EventStatus } from "../model.js";
import type { ClaimCursor, Store } from "../store/index.js";
import { createLeases, rewound } from "./leases.js";

/** A claim starts from the beginning at least this often, whatever the cursor says (belt and braces). */
const RESCAN_MS = 60_000;

/** One route's claim state. */
export interface RouteQueue {
  readonly name: string;
  /** Claimed (leased) events not yet being sent. */
  buffer: DueEvent[];
  /**
   * A claim came up short: nothing else is due until something changes (a wake from ingest, the
   * admin API or the timer, a released lease, a rescheduled or unblocked event). Saves a query
   * per finished attempt when the queue is empty.
   */
  drained: boolean;
  /**
   * Where the last claim stopped. Every due, unleased row up to it has been claimed, so the next
   * claim starts after it. Whatever can become due behind it (a released lease, a retry due at
   * once, an unblocked ordered successor, an admin redelivery) moves it back; null rescans.
   */
  after: ClaimCursor | null;
  /** When a claim last started from the beginning (see RESCAN_MS). */
  rescannedAt: number;
}

export function routeQueue(name: string): RouteQueue {
  return { name, buffer: [], drained: false, after: null, rescannedAt: 0 };
}

/**
 * The claim side the deliverer runs on. The SQLite store's claims are a read plus a lease in this
 * process's memory and answer at once; a shared store's claims lease rows in the database and
 * answer later (a promise), after which the deliverer pumps the route again.
 */
export interface ClaimSource {
  /** Events claimed ahead of free slots per route: the route's concurrency, or absent for the deliverer's default. */
  readonly prefetch?: "concurrency";
  /** False: attempts are handed to a queueing sender only up to the free slots (leases must not wait there). */
  readonly handover?: boolean;
  /**
   * Leases up to `limit` due events of the route into `q.buffer` and returns them. `probe`: the
   * half-open probe, which a shared store leases cluster-wide (one probe for all replicas).
   */
  claim(q: RouteQueue, limit: number, probe: boolean): DueEvent[] | Promise<DueEvent[]>;
  /** Gives up a lease without an attempt. */
  unlease(q: RouteQueue, event: DueEvent): void;
  /** Hands buffered, never-sent events back. */
  releaseBuffer(q: RouteQueue): void;
  /** The attempt's outcome has committed: the lease ends. */
  settled(
    q: RouteQueue,
    event: DueEvent,
    status: Exclude<EventStatus, "delivering">,
    nextAttemptAt: number,
  ): void;
  /** Something may have become due anywhere behind the cursor (admin or gate changes). */
  rescan(q: RouteQueue): void;
  /** When the route's next unclaimed event falls due, or null. */
  nextDueAt(q: RouteQueue): number | null;
  /** Whether an event (by seq) is leased by this process right now. */
  isLeased(seq: number): boolean;
  leasedSeqs(): number[];
  /** Events of the route (all routes for null) this process has leased. */
  leased(route: string | null): number;
}

export interface ClaimsDeps {
  store: Store;
  clock: Clock;
}

/** The SQLite store's claims: reads of the due index, leased in memory. */
export function createClaims(deps: ClaimsDeps) {
  const { store, clock } = deps;
  const leased = createLeases();

  /** A row keyed (at, seq) is claimable again: make sure the next claim reaches it. */
  function rewind(q: RouteQueue, at: number, seq: number): void {
    q.drained = false;
    q.after = rewound(q.after, at, seq);
  }

  /** Gives up a lease without an attempt: the row never stopped being pending. */
  function unlease(q: RouteQueue, event: DueEvent): void {
    if (!leased.delete(event.seq)) return;
    rewind(q, event.nextAttemptAt, event.seq);
  }

  return {
    /** Leases up to `limit` due events of the route into its buffer. Throws if the read fails. */
    claim(q: RouteQueue, limit: number): DueEvent[] {
      const now = clock.now();
      // New events sort after the cursor because their key is the clock at commit; not if it stepped back.
      if (q.after !== null && (now < q.after.at || now - q.rescannedAt > RESCAN_MS)) q.after = null;
      if (q.after === null) q.rescannedAt = now;
      const claimed = store.events.claimDue(q.name, now, limit, leased.past(q.name, q.after), q.after);
      for (const e of claimed) leased.add(e);
      const last = claimed.at(-1);
      if (last) q.after = { at: last.nextAttemptAt, seq: last.seq };
      q.buffer.push(...claimed);
      if (claimed.length < limit) q.drained = true;
      return claimed;
    },
    unlease,
    /** Hands buffered, never-sent events back. */
    releaseBuffer(q: RouteQueue): void {
      for (const e of q.buffer.splice(0)) unlease(q, e);
    },
    /** The attempt's outcome has committed: the lease ends (until then the row still reads pending). */
    settled(
      q: RouteQueue,
      event: DueEvent,
      status: Exclude<EventStatus, "delivering">,
      nextAttemptAt: number,
    ): void {
      leased.delete(event.seq);
      // Still pending (retry due soon) or an ordered successor unblocked: worth another claim.
      if (status === "pending") rewind(q, nextAttemptAt, event.seq);
      if (event.orderKey !== null) {
        q.drained = false;
        q.after = null; // the successor keeps its arrival key, behind the cursor
      }
    },
    /** Something may have become due anywhere behind the cursor (admin or gate changes). */
    rescan(q: RouteQueue): void {
      q.after = null;
    },
    /** When the route's next unclaimed event falls due, or null. */
    nextDueAt(q: RouteQueue): number | null {
      return store.events.nextDueAt(q.name, leased.past(q.name, q.after), q.after);
    },
    /** Whether an event (by seq) is claimed or being delivered right now. */
    isLeased(seq: number): boolean {
      return leased.has(seq);
    },
    leasedSeqs(): number[] {
      return leased.seqs();
    },
    /** Leased events of the route (of all routes for null): pending rows being delivered. */
    leased(route: string | null): number {
      return leased.count(route);
    },
  };
}
