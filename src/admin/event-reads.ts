/**
 * The SQLite store's event reads: searches in bounded windows (event-search.ts), and leases read
 * from the deliverer's memory, where the SQLite store keeps them (the rows stay pending).
 */
import type { EventFilter, EventReads, Store } from "../store/index.js";
import { createEventSearch } from "./event-search.js";

/** The deliverer's in-memory leases. */
export interface MemoryLeases {
  isLeased(seq: number): boolean;
  leasedSeqs(): number[];
}

export function createSqliteEventReads(store: Store, leases: MemoryLeases): EventReads {
  const search = createEventSearch(store);

  /** A pending row the deliverer holds is being delivered. */
  function leasedAsDelivering<T extends { seq: number; status: string }>(e: T): T {
    return e.status === "pending" && leases.isLeased(e.seq) ? { ...e, status: "delivering" } : e;
  }

  /** "delivering" means a pending row the deliverer holds right now. */
  function leasedQuery(filter: EventFilter): EventFilter {
    return filter.status === "delivering"
      ? { ...filter, status: "pending" as const, seqs: leases.leasedSeqs() }
      : filter;
  }

  return {
    async list(filter, cursor, limit, budget) {
      const query = leasedQuery(filter);
      const found = await search.collect(query, cursor, limit, budget, (b, l, f) =>
        store.admin.list(query, b, l, f),
      );
      return { ...found, rows: found.rows.map(leasedAsDelivering) };
    },
    async refs(filter, limit) {
      const query = leasedQuery(filter);
      const found = await search.collect(query, null, limit, Number.POSITIVE_INFINITY, (b, l, f) =>
        store.admin.refs(query, b, l, f),
      );
      return found.rows;
    },
    count: (filter) => search.count(leasedQuery(filter)),
    async get(id) {
      const event = store.admin.get(id, true);
      return event ? leasedAsDelivering(event) : null;
    },
    attempts: async (id) => store.attempts.forEvent(id),
    history: async (id) => store.admin.history(id),
    request: async (key) => store.idempotency.get(key),
  };
}
