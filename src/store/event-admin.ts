import type { Database, Statement } from "better-sqlite3";
import type { EventStatus, Reason } from "../model.js";
import type { EventQueries } from "./events.js";

/** Which events an operator means; null fields do not filter. */
export interface EventFilter {
  status: EventStatus | null;
  route: string | null;
  /** The last attempt's reason (`last_reason`). */
  reason: Reason | null;
  /** received_at >= since, epoch ms. */
  since: number | null;
  /** received_at < until, epoch ms. */
  until: number | null;
  /** Only these seqs (the deliverer's leases, for status=delivering), or all. */
  seqs?: number[];
}

/** One event as listed, without headers and body. */
export interface EventSummary {
  seq: number;
  id: string;
  route: string;
  status: EventStatus;
  method: string;
  path: string;
  query: string;
  /** Epoch ms. */
  receivedAt: number;
  attempts: number;
  /** Epoch ms of the next attempt; meaningless once delivered or dead. */
  nextAttemptAt: number;
  lastReason: Reason | null;
  lastDetail: string | null;
  lastStatus: number | null;
  /** Epoch ms, or null. */
  deliveredAt: number | null;
  /** Body length in bytes. */
  bodySize: number;
}

/** One event with its request: headers always, body only when asked for. */
export interface EventDetail extends EventSummary {
  headers: Array<[string, string]>;
  body: Buffer | null;
}

/** What an admin change needs to move gauges: the event's route, size and status before it. */
export interface EventRef {
  seq: number;
  id: string;
  route: string;
  status: EventStatus;
  bodySize: number;
  orderKey: string | null;
}

/** The result of changing one event by id. */
export type AdminChange =
  | { result: "not_found" }
  | { result: "delivering" }
  | { result: "ok"; ref: EventRef };

interface SummaryRow {
  seq: number;
  id: string;
  route: string;
  status: EventStatus;
  method: string;
  path: string;
  query: string;
  received_at: number;
  attempts: number;
  next_attempt_at: number;
  last_reason: Reason | null;
  last_detail: string | null;
  last_status: number | null;
  delivered_at: number | null;
  body_size: number;
}

interface RefRow {
  seq: number;
  id: string;
  route: string;
  status: EventStatus;
  body_size: number;
  order_key: string | null;
}

const SUMMARY = `seq, id, route, status, method, path, query, received_at, attempts, next_attempt_at,
  last_reason, last_detail, last_status, delivered_at, body_size`;
const REF = "seq, id, route, status, body_size, order_key";

const toSummary = (r: SummaryRow): EventSummary => ({
  seq: r.seq,
  id: r.id,
  route: r.route,
  status: r.status,
  method: r.method,
  path: r.path,
  query: r.query,
  receivedAt: r.received_at,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastReason: r.last_reason,
  lastDetail: r.last_detail,
  lastStatus: r.last_status,
  deliveredAt: r.delivered_at,
  bodySize: r.body_size,
});

const toRef = (r: RefRow): EventRef => ({
  seq: r.seq,
  id: r.id,
  route: r.route,
  status: r.status,
  bodySize: r.body_size,
  orderKey: r.order_key,
});

type Bound = Record<string, string | number>;

/** WHERE terms for the filters present, so `status = ?` can use the (status, seq) index. */
function where(f: EventFilter): { shape: string; terms: string[]; params: Bound } {
  const terms: string[] = [];
  const params: Bound = {};
  const add = (term: string, name: string, value: string | number | null) => {
    if (value === null) return;
    terms.push(term);
    params[name] = value;
  };
  add("status = @status", "status", f.status);
  add("route = @route", "route", f.route);
  add("last_reason = @reason", "reason", f.reason);
  add("received_at >= @since", "since", f.since);
  add("received_at < @until", "until", f.until);
  if (f.seqs) add("seq IN (SELECT value FROM json_each(@seqs))", "seqs", JSON.stringify(f.seqs));
  return { shape: Object.keys(params).join(","), terms, params };
}

/** Operator queries over events: list, inspect, redeliver, discard. */
export function createEventAdminQueries(db: Database, events: EventQueries) {
  // Filter combinations are few (at most 32), so each shape is prepared once, on first use.
  const listCache = new Map<string, Statement<Bound, SummaryRow>>();
  const chunkCache = new Map<string, Statement<Bound, RefRow>>();
  const prepared = <R>(cache: Map<string, Statement<Bound, R>>, key: string, sql: () => string) => {
    let stmt = cache.get(key);
    if (!stmt) {
      stmt = db.prepare(sql()) as Statement<Bound, R>;
      cache.set(key, stmt);
    }
    return stmt;
  };

  const byId = db.prepare(`SELECT ${SUMMARY}, headers FROM events WHERE id = ?`) as Statement<
    [string],
    SummaryRow & { headers: string }
  >;
  const bodyById = db.prepare("SELECT body FROM events WHERE id = ?").pluck() as Statement<[string], Buffer>;
  const refById = db.prepare(`SELECT ${REF} FROM events WHERE id = ?`) as Statement<[string], RefRow>;
  const maxSeq = db.prepare("SELECT COALESCE(MAX(seq), 0) FROM events").pluck() as Statement<[], number>;
  const reopen = db.prepare(
    `UPDATE events SET status = 'pending', next_attempt_at = @now, schedule_base = attempts, schedule_start = @now,
       blocked = @blocked, delivered_at = NULL, finished_at = NULL
     WHERE seq = @seq AND status IN ('dead', 'delivered')`,
  );
  const makeDue = db.prepare("UPDATE events SET next_attempt_at = ? WHERE seq = ? AND status = 'pending'");
  const deleteEvent = db.prepare("DELETE FROM events WHERE seq = ?");
  const deleteAttempts = db.prepare("DELETE FROM attempts WHERE event_id = ?");

  /** Makes a finished event pending and due now, restarting its retry schedule; history stays. */
  function redeliverRef(ref: EventRef, now: number): void {
    if (ref.status === "pending") {
      makeDue.run(now, ref.seq);
      return;
    }
    // Ordering: queue behind the key's open events; the one ahead unblocks it when it finishes.
    const blocked = ref.orderKey !== null && events.keyHasOpen(ref.route, ref.orderKey) ? 1 : 0;
    reopen.run({ seq: ref.seq, now, blocked });
  }

  return {
    /** Newest first; `beforeSeq` is the cursor (exclusive). */
    list(filter: EventFilter, beforeSeq: number | null, limit: number): EventSummary[] {
      const w = where(filter);
      if (beforeSeq !== null) w.terms.push("seq < @before");
      const stmt = prepared(listCache, `${w.shape}|${beforeSeq !== null}`, () => {
        const cond = w.terms.length > 0 ? `WHERE ${w.terms.join(" AND ")}` : "";
        return `SELECT ${SUMMARY} FROM events ${cond} ORDER BY seq DESC LIMIT @limit`;
      });
      const params: Bound = { ...w.params, limit };
      if (beforeSeq !== null) params.before = beforeSeq;
      return stmt.all(params).map(toSummary);
    },
    get(id: string, withBody: boolean): EventDetail | null {
      const row = byId.get(id);
      if (!row) return null;
      const headers = JSON.parse(row.headers) as Array<[string, string]>;
      return { ...toSummary(row), headers, body: withBody ? (bodyById.get(id) ?? null) : null };
    },
    /** Highest seq so far: bulk changes stop there, so events they touch cannot come round again. */
    maxSeq(): number {
      return maxSeq.get() ?? 0;
    },
    /** Redelivers one event: a leased one is left alone, a pending one is only made due now. */
    redeliver(id: string, now: number, isLeased: (seq: number) => boolean): AdminChange {
      const row = refById.get(id);
      if (!row) return { result: "not_found" };
      if (isLeased(row.seq)) return { result: "delivering" };
      const ref = toRef(row);
      redeliverRef(ref, now);
      return { result: "ok", ref };
    },
    /**
     * Redelivers up to `limit` events matching `filter` (its status must be dead or delivered) with
     * seq in (afterSeq, maxSeq], oldest first. Returns the events changed, with their old status.
     */
    redeliverChunk(
      filter: EventFilter,
      afterSeq: number,
      upToSeq: number,
      limit: number,
      now: number,
    ): EventRef[] {
      if (filter.status !== "dead" && filter.status !== "delivered") {
        throw new Error("bulk redelivery needs status dead or delivered");
      }
      const w = where(filter);
      const stmt = prepared(chunkCache, w.shape, () => {
        const cond = [...w.terms, "seq > @after", "seq <= @upTo"].join(" AND ");
        return `SELECT ${REF} FROM events WHERE ${cond} ORDER BY seq LIMIT @limit`;
      });
      const refs = stmt.all({ ...w.params, after: afterSeq, upTo: upToSeq, limit }).map(toRef);
      for (const ref of refs) redeliverRef(ref, now);
      return refs;
    },
    /** Deletes an event and its attempts; an ordered open event lets the next of its key go. */
    discard(id: string, isLeased: (seq: number) => boolean): AdminChange {
      const row = refById.get(id);
      if (!row) return { result: "not_found" };
      if (isLeased(row.seq)) return { result: "delivering" };
      const ref = toRef(row);
      deleteEvent.run(ref.seq);
      deleteAttempts.run(ref.id);
      if (ref.orderKey !== null && ref.status === "pending") events.unblockNext(ref.route, ref.orderKey);
      return { result: "ok", ref };
    },
  };
}

export type EventAdminQueries = ReturnType<typeof createEventAdminQueries>;
