import type { Clock } from "../clock.js";
import type { Deliverer } from "../deliver/deliverer.js";
import type { OperatorGateState } from "../gate.js";
import type { RouteDelivery } from "../model.js";
import type {
  AttemptRecord,
  CommandRunner,
  EventDetail,
  EventFilter,
  EventReads,
  EventSummary,
  HistoryEntry,
  QueueCounts,
  SearchExplain,
} from "../store/index.js";

export interface EventAdminDeps {
  /** Brings the queue counts and gates up to date (a shared store reads them again). */
  current?: () => Promise<void>;
  /** Stored events as the operator sees them (leases read as delivering). */
  reads: EventReads;
  commands: CommandRunner;
  /** Queue depth of a route, from the in-memory queue counts. */
  queue: (route: string) => QueueCounts;
  deliverer: Pick<Deliverer, "wake" | "setGate" | "route" | "isLeased">;
  clock: Clock;
  /** Configured route names, in config order. */
  routeNames: string[];
  /** Most events one bulk redelivery may change (`admin.redeliver_max`). */
  redeliverMax: number;
}

/** What a bulk redelivery asks for. */
export interface BulkRedeliver {
  filter: EventFilter;
  dryRun: boolean;
  /** Idempotency key; a repeat with the same key gets the first answer and changes nothing. */
  requestId: string | null;
  /** How many ids a dry run lists. */
  sample: number;
}

export type BulkResult =
  | { result: "dry_run"; count: number; ids: string[]; max: number }
  | { result: "too_many"; count: number; max: number }
  | { result: "key_reused" }
  | { result: "done"; count: number; skipped: number; requestId: string | null; replayed: boolean };

/** Idempotency keys are remembered this long. */
const REQUEST_KEY_TTL_MS = 24 * 3_600_000;

export type ChangeResult = "ok" | "not_found" | "delivering";

/**
 * Bulk redelivery changes this many events per write op, so ingest and delivery commits keep
 * interleaving instead of waiting behind one giant transaction.
 */
const CHUNK = 500;

/** Most rows one search page may scan when no index serves the filter (`scan_budget` overrides). */
export const DEFAULT_SCAN_BUDGET = 100_000;

/** Operator actions on events and routes: every status change is recorded as a queue move. */
export function createEventAdmin(deps: EventAdminDeps) {
  const { reads, commands, deliverer, clock } = deps;
  const routeSet = new Set(deps.routeNames);
  const inFlight = new Map<string, { fingerprint: string; done: Promise<BulkResult> }>();

  /** Collects the matches first (up to max + 1), then changes them in chunks of write ops. */
  async function bulkRedeliver(filter: EventFilter, requestId: string | null): Promise<BulkResult> {
    const max = deps.redeliverMax;
    const found = await reads.refs(filter, max + 1);
    if (found.length > max) return { result: "too_many", count: await reads.count(filter), max };
    // Oldest first, so ordered keys reopen in arrival order.
    const seqs = found.map((r) => r.seq).reverse();
    let count = 0;
    let skipped = 0;
    for (let i = 0; i < seqs.length; i += CHUNK) {
      const chunk = seqs.slice(i, i + CHUNK);
      const changed = await commands.execute({
        kind: "redeliver-seqs",
        seqs: chunk,
        now: clock.now(),
        requestId,
        isLeased: deliverer.isLeased,
      });
      count += changed.changed.length;
      skipped += changed.skipped;
      if (changed.changed.length > 0) deliverer.wake();
    }
    return { result: "done", count, skipped, requestId, replayed: false };
  }

  return {
    isRoute(name: string): boolean {
      return routeSet.has(name);
    },
    /**
     * One page, newest first; `nextCursor` is null on the last page. A scanning search may return
     * a short (even empty) page with a cursor when its budget ran out: `explain.partial`.
     */
    async list(
      filter: EventFilter,
      cursor: number | null,
      limit: number,
      scanBudget = DEFAULT_SCAN_BUDGET,
    ): Promise<{ events: EventSummary[]; nextCursor: number | null; explain: SearchExplain }> {
      // One row more than asked tells whether another page exists without a COUNT.
      const found = await reads.list(filter, cursor, limit + 1, scanBudget);
      const page: EventSummary[] = found.rows.slice(0, limit);
      const last = page[page.length - 1];
      const nextCursor = found.rows.length > limit && last ? last.seq : found.resumeAt;
      return { events: page, nextCursor, explain: found.explain };
    },
    /** One event with its body, attempts and operator history. */
    async get(
      id: string,
    ): Promise<{ event: EventDetail; attempts: AttemptRecord[]; history: HistoryEntry[] } | null> {
      const event = await reads.get(id);
      if (!event) return null;
      const [attempts, history] = await Promise.all([reads.attempts(id), reads.history(id)]);
      return { event, attempts, history };
    },
    /** Dead, delivered or filtered -> pending and due now; pending -> due now; delivering is a conflict. */
    async redeliver(id: string): Promise<ChangeResult> {
      const change = await commands.execute({
        kind: "redeliver",
        id,
        now: clock.now(),
        isLeased: deliverer.isLeased,
      });
      if (change.result === "ok") deliverer.wake();
      return change.result;
    },
    /**
     * Redelivers every event matching the filter (dead, delivered or filtered ones become pending and due
     * now, pending ones due now, ones being delivered are skipped), each recorded in its history.
     * Refused beyond `redeliverMax` matches; a dry run only counts and lists the first ids.
     */
    async redeliverMatching(req: BulkRedeliver): Promise<BulkResult> {
      const { filter, requestId } = req;
      const max = deps.redeliverMax;
      if (req.dryRun) {
        const count = await reads.count(filter);
        const first = await reads.refs(filter, req.sample);
        return { result: "dry_run", count, ids: first.map((r) => r.id), max };
      }
      if (requestId === null) return bulkRedeliver(filter, null);
      const fingerprint = JSON.stringify(filter);
      // A repeat while the first is still running waits for it instead of running twice.
      const running = inFlight.get(requestId);
      if (running) return running.fingerprint === fingerprint ? running.done : { result: "key_reused" };
      const recorded = await reads.request(requestId);
      if (recorded) {
        if (recorded.fingerprint !== fingerprint) return { result: "key_reused" };
        return { ...(JSON.parse(recorded.response) as BulkResult & { result: "done" }), replayed: true };
      }
      const done = bulkRedeliver(filter, requestId);
      inFlight.set(requestId, { fingerprint, done });
      try {
        const result = await done;
        if (result.result === "done") {
          const at = clock.now();
          await commands.execute({
            kind: "save-request",
            key: requestId,
            at,
            fingerprint,
            response: JSON.stringify(result),
            before: at - REQUEST_KEY_TTL_MS,
          });
        }
        return result;
      } finally {
        inFlight.delete(requestId);
      }
    },
    /** Deletes an event and its attempts; one being delivered right now is a conflict. */
    async discard(id: string): Promise<ChangeResult> {
      const change = await commands.execute({ kind: "discard", id, isLeased: deliverer.isLeased });
      // A discarded ordered event may have unblocked the next of its key.
      if (change.result === "ok") deliverer.wake();
      return change.result;
    },
    /** Pauses or resumes a route; the answer is its gate as /routes shows it (no queue). */
    async setGate(
      name: string,
      state: OperatorGateState,
    ): Promise<Pick<RouteDelivery, "name" | "state" | "disabled"> | null> {
      if (!routeSet.has(name)) return null;
      const gate = await deliverer.setGate(name, state);
      return gate ? { name, state: gate.state, disabled: gate.disabled } : null;
    },
    async routes(): Promise<Array<RouteDelivery & { queue: QueueCounts }>> {
      await deps.current?.();
      return deps.routeNames.flatMap((name) => {
        const r = deliverer.route(name);
        return r ? [{ ...r, queue: deps.queue(name) }] : [];
      });
    },
  };
}

export type EventAdmin = ReturnType<typeof createEventAdmin>;
