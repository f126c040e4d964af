import type { Clock } from "../clock.js";
import type { Deliverer } from "../deliver/deliverer.js";
import type { QueueCounts, QueueGauges } from "../stats/gauges.js";
import type {
  AttemptRecord,
  EventDetail,
  EventFilter,
  EventRef,
  EventSummary,
  Store,
  Writer,
} from "../store/index.js";

export interface EventAdminDeps {
  store: Store;
  writer: Writer;
  gauges: QueueGauges;
  deliverer: Pick<Deliverer, "wake" | "setRouteState" | "routeState" | "isLeased" | "leasedSeqs">;
  clock: Clock;
  /** Configured route names, in config order. */
  routeNames: string[];
}

/** A route's delivery gate as operators see it. */
export interface RouteView {
  name: string;
  state: "active" | "paused" | "open";
  /** Method-style record while the breaker holds the route open, else null. */
  disabled: unknown;
}

export type ChangeResult = "ok" | "not_found" | "delivering";

/**
 * Bulk redelivery changes this many events per write op, so ingest and delivery commits keep
 * interleaving instead of waiting behind one giant transaction.
 */
const CHUNK = 500;

/** Operator actions on events and routes: every status change here also moves the gauges. */
export function createEventAdmin(deps: EventAdminDeps) {
  const { store, writer, gauges, deliverer, clock } = deps;
  const routeSet = new Set(deps.routeNames);

  const reopened = (refs: EventRef[]) => () => {
    for (const r of refs) if (r.status !== "pending") gauges.move(r.route, r.status, "pending", r.bodySize);
  };

  /** Leases live in the deliverer's memory: a pending row it holds is being delivered. */
  function leasedAsDelivering<T extends { seq: number; status: string }>(e: T): T {
    return e.status === "pending" && deliverer.isLeased(e.seq) ? { ...e, status: "delivering" } : e;
  }

  function view(name: string): RouteView | null {
    const s = deliverer.routeState(name);
    return s ? { name, state: s.state, disabled: s.disabled } : null;
  }

  return {
    isRoute(name: string): boolean {
      return routeSet.has(name);
    },
    /** One page, newest first; `nextCursor` is null on the last page. */
    list(filter: EventFilter, cursor: number | null, limit: number) {
      // One row more than asked tells whether another page exists without a COUNT.
      // Leases live in memory: "delivering" means a pending row the deliverer holds right now.
      const query =
        filter.status === "delivering"
          ? { ...filter, status: "pending" as const, seqs: deliverer.leasedSeqs() }
          : filter;
      const rows = store.admin.list(query, cursor, limit + 1);
      const page: EventSummary[] = rows.slice(0, limit).map(leasedAsDelivering);
      const last = page[page.length - 1];
      return { events: page, nextCursor: rows.length > limit && last ? last.seq : null };
    },
    get(id: string, withBody: boolean): { event: EventDetail; attempts: AttemptRecord[] } | null {
      const event = store.admin.get(id, withBody);
      return event ? { event: leasedAsDelivering(event), attempts: store.attempts.forEvent(id) } : null;
    },
    /** Dead or delivered -> pending and due now; pending -> due now; delivering is a conflict. */
    async redeliver(id: string): Promise<ChangeResult> {
      const change = await writer.run((ctx) => {
        const c = store.admin.redeliver(id, clock.now(), deliverer.isLeased);
        if (c.result === "ok") ctx.afterCommit(reopened([c.ref]));
        return c;
      });
      if (change.result === "ok") deliverer.wake();
      return change.result;
    },
    /** Redelivers every event matching `filter` (status dead or delivered) in chunks; returns how many. */
    async redeliverMany(filter: EventFilter & { status: "dead" | "delivered" }): Promise<number> {
      // Events that die again while this runs are past upTo or behind `after`: each is touched once.
      const upTo = store.admin.maxSeq();
      let after = 0;
      let count = 0;
      for (;;) {
        const refs = await writer.run((ctx) => {
          const refs = store.admin.redeliverChunk(filter, after, upTo, CHUNK, clock.now());
          ctx.afterCommit(reopened(refs));
          return refs;
        });
        count += refs.length;
        if (refs.length > 0) deliverer.wake();
        const last = refs[refs.length - 1];
        if (refs.length < CHUNK || !last) return count;
        after = last.seq;
      }
    },
    /** Deletes an event and its attempts; one being delivered right now is a conflict. */
    async discard(id: string): Promise<ChangeResult> {
      const change = await writer.run((ctx) => {
        const c = store.admin.discard(id, deliverer.isLeased);
        if (c.result === "ok") {
          const { route, status, bodySize } = c.ref;
          ctx.afterCommit(() => gauges.remove(route, status, bodySize));
        }
        return c;
      });
      // A discarded ordered event may have unblocked the next of its key.
      if (change.result === "ok") deliverer.wake();
      return change.result;
    },
    /** Pauses or resumes a route (resume also closes an open breaker); null for an unknown route. */
    async setRouteState(name: string, state: "active" | "paused"): Promise<RouteView | null> {
      if (!routeSet.has(name)) return null;
      const s = await deliverer.setRouteState(name, state);
      return s ? { name, state: s.state, disabled: s.disabled } : null;
    },
    routes(): Array<RouteView & { queue: QueueCounts }> {
      return deps.routeNames.flatMap((name) => {
        const v = view(name);
        return v ? [{ ...v, queue: gauges.get(name) }] : [];
      });
    },
  };
}

export type EventAdmin = ReturnType<typeof createEventAdmin>;
