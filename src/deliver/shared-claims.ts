/**
 * Claims on a shared store (PostgreSQL): each claim leases rows in the database for this replica
 * (`locked_by`, `lease_until` from the database clock), so replicas never deliver the same event
 * at once and a replica that dies loses its leases when they run out (docs/replicas.md).
 */
import type { DueEvent } from "../model.js";
import type { ClaimSource, RouteQueue } from "./claims.js";

/** The lease side of a shared store. */
export interface LeaseStore {
  /** Leases up to `limit` due events of the route (oldest due first, per-key order kept). */
  claim(route: string, limit: number): Promise<DueEvent[]>;
  /** Takes the route's half-open probe, one cluster-wide; false when another replica has it. */
  takeProbe(route: string): Promise<boolean>;
  /** Gives leases back, so any replica may claim those events at once. */
  release(seqs: readonly number[]): Promise<void>;
  /** Gives back every lease this replica holds on the route except `keep`. */
  releaseAllBut(route: string, keep: readonly number[]): Promise<void>;
}

export function createSharedClaims(store: LeaseStore, onError: (err: unknown) => void, now: () => number) {
  const leased = new Map<number, string>();
  // The earliest retry this replica scheduled per route: its timer claims then, not at the next tick.
  const retries = new Map<string, number>();
  const releasing = new Set<Promise<void>>();
  // Routes whose last claim failed: it may have committed with its answer lost on the way (a
  // dropped connection), leaving leases this replica does not know it holds.
  const unsure = new Set<string>();

  function release(events: readonly DueEvent[]): void {
    const seqs = events.map((e) => e.seq).filter((s) => leased.delete(s));
    if (seqs.length === 0) return;
    // Not awaited: a release that fails only means the lease runs out instead.
    const p = store.release(seqs).catch(onError);
    releasing.add(p);
    void p.finally(() => releasing.delete(p));
  }

  const source: ClaimSource & { settle(): Promise<void> } = {
    // At most one attempt's wait ahead of the free slots (the route's concurrency), so a buffered
    // event starts within one attempt timeout: the lease (twice the timeout plus 2 s) covers its
    // wait, its own attempt and the commit of its outcome (docs/replicas.md).
    prefetch: "concurrency",
    handover: false,
    async claim(q: RouteQueue, limit: number, probe: boolean): Promise<DueEvent[]> {
      if (unsure.has(q.name)) {
        // One claim per route runs at a time, so every lease held on it and not known here is such a stray.
        const known = [...leased].flatMap(([seq, route]) => (route === q.name ? [seq] : []));
        await store.releaseAllBut(q.name, known);
        unsure.delete(q.name);
      }
      let claimed: DueEvent[];
      try {
        claimed = await store.claim(q.name, limit);
      } catch (err) {
        unsure.add(q.name);
        throw err;
      }
      // The probe lease is taken only with an event in hand: one taken with nothing due would
      // keep every replica from probing until it ran out.
      if (probe && claimed.length > 0 && !(await store.takeProbe(q.name))) {
        await store.release(claimed.map((e) => e.seq)).catch(onError);
        q.drained = true;
        return [];
      }
      for (const e of claimed) leased.set(e.seq, q.name);
      q.buffer.push(...claimed);
      if (claimed.length < limit) q.drained = true;
      return claimed;
    },
    unlease(_q, event) {
      release([event]);
    },
    releaseBuffer(q) {
      release(q.buffer.splice(0));
    },
    settled(q, event, status, nextAttemptAt) {
      // The outcome's commit cleared the lease in the row. The next event of the key, or this one's
      // retry, may be claimable now: claim again rather than wait for a wake-up.
      leased.delete(event.seq);
      q.drained = false;
      if (status === "pending")
        retries.set(q.name, Math.min(retries.get(q.name) ?? nextAttemptAt, nextAttemptAt));
    },
    rescan(q) {
      q.drained = false;
    },
    // Retries this replica scheduled; others' are found by the store's safety tick and by wake-ups.
    nextDueAt(q) {
      const at = retries.get(q.name);
      if (at === undefined) return null;
      // Once due, the claims that follow take it (or another replica did).
      if (at <= now()) retries.delete(q.name);
      return at;
    },
    isLeased: (seq) => leased.has(seq),
    leasedSeqs: () => [...leased.keys()],
    leased(route) {
      if (route === null) return leased.size;
      let n = 0;
      for (const r of leased.values()) if (r === route) n++;
      return n;
    },
    /** Resolves when every release sent so far has finished (before the pool closes). */
    async settle(): Promise<void> {
      await Promise.all([...releasing]);
    },
  };
  return source;
}
