import type { Database, Statement } from "better-sqlite3";
import type { EventStatus, Reason } from "../model.js";
import { type Bound, type EventFilter, filterTerms } from "./event-filter.js";
import type { EventQueries } from "./events.js";

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
  /** The ingest span as a `traceparent`, when stored with tracing on (README, Tracing). */
  traceParent: string | null;
}

/** What an admin change needs to move gauges: the event's route, size and status before it. */
export interface EventRef {
  seq: number;
  id: string;
  route: string;
  status: EventStatus;
  /** Body plus stored upstream answers: what the event counts toward storage.max_bytes. */
  bodySize: number;
  orderKey: string | null;
}

/** The result of changing one event by id. */
export type AdminChange =
  | { result: "not_found" }
  | { result: "delivering" }
  | { result: "ok"; ref: EventRef };

// Columns aliased to the shapes above, so rows come back as EventSummary and EventRef as they are.
const SUMMARY = `seq, id, route, status, method, path, query, received_at AS receivedAt, attempts,
  next_attempt_at AS nextAttemptAt, last_reason AS lastReason, last_detail AS lastDetail,
  last_status AS lastStatus, delivered_at AS deliveredAt, body_size AS bodySize`;
// Bytes an event holds for storage.max_bytes: its body and the upstream answers stored for it.
const REF = "seq, id, route, status, body_size + response_bytes AS bodySize, order_key AS orderKey";

/** How SQLite will run a search: which index it seeks, or that it scans. */
export interface SearchPlan {
  /** The index SQLite seeks (or `rowid`), or null when it walks the table. */
  index: string | null;
  /** True when rows are read one by one rather than found through an index. */
  scan: boolean;
  /** EXPLAIN QUERY PLAN, one line per step. */
  detail: string[];
}

/** Scan steps walk rows; an ordering step sorts every match before the first page is known. */
function planOf(detail: string[]): SearchPlan {
  const scan = detail.some((d) => /^SCAN /.test(d) || /TEMP B-TREE FOR ORDER BY/.test(d));
  const seek = detail.map((d) => /^SEARCH \S+ USING (?:COVERING )?INDEX (\S+)/.exec(d)?.[1]).find(Boolean);
  const rowid = detail.some((d) => /^SEARCH \S+ USING INTEGER PRIMARY KEY/.test(d));
  return { index: seek ?? (rowid ? "rowid" : null), scan, detail };
}

/** Keeps the most recently used prepared statements for SQL that varies with the filter. */
function statementCache(db: Database, max = 100) {
  const cache = new Map<string, Statement>();
  return (sql: string): Statement => {
    let stmt = cache.get(sql);
    if (stmt) cache.delete(sql);
    else stmt = db.prepare(sql);
    cache.set(sql, stmt);
    if (cache.size > max) cache.delete(cache.keys().next().value as string);
    return stmt;
  };
}

/** The filter's WHERE clause plus any extra terms. */
function whereOf(filter: EventFilter, extra: string[] = []) {
  const w = filterTerms(filter);
  const terms = [...w.terms, ...extra];
  return { cond: terms.length > 0 ? `WHERE ${terms.join(" AND ")}` : "", params: w.params };
}

/** One operator action on an event, as its history shows it. */
export interface HistoryEntry {
  at: number;
  action: "redeliver";
  /** The bulk request's idempotency key, or null for a single-event action. */
  requestId: string | null;
}

/** Operator queries over events: search, inspect, redeliver, discard. */
export function createEventAdminQueries(db: Database, events: EventQueries) {
  // Search SQL varies with the filter (JSON pointers are part of it), so statements are cached.
  const prepare = statementCache(db);

  const byId = db.prepare(
    `SELECT ${SUMMARY}, headers, trace_parent AS traceParent FROM events WHERE id = ?`,
  ) as Statement<[string], EventSummary & { headers: string; traceParent: string | null }>;
  const bodyById = db.prepare("SELECT body FROM events WHERE id = ?").pluck() as Statement<[string], Buffer>;
  const refById = db.prepare(`SELECT ${REF} FROM events WHERE id = ?`) as Statement<[string], EventRef>;
  const refBySeq = db.prepare(`SELECT ${REF} FROM events WHERE seq = ?`) as Statement<[number], EventRef>;
  const maxSeq = db.prepare("SELECT COALESCE(MAX(seq), 0) FROM events").pluck() as Statement<[], number>;
  const minSeq = db.prepare("SELECT COALESCE(MIN(seq), 0) FROM events").pluck() as Statement<[], number>;
  const reopen = db.prepare(
    `UPDATE events SET status = 'pending', next_attempt_at = @now, schedule_base = attempts, schedule_start = @now,
       blocked = @blocked, delivered_at = NULL, finished_at = NULL
     WHERE seq = @seq AND status IN ('dead', 'delivered', 'filtered')`,
  );
  const makeDue = db.prepare("UPDATE events SET next_attempt_at = ? WHERE seq = ? AND status = 'pending'");
  const deleteEvent = db.prepare("DELETE FROM events WHERE seq = ?");
  const deleteAttempts = db.prepare("DELETE FROM attempts WHERE event_id = ?");
  const deleteHistory = db.prepare("DELETE FROM event_history WHERE event_id = ?");
  const addHistory = db.prepare(
    "INSERT INTO event_history (event_id, at, action, request_id) VALUES (?, ?, ?, ?)",
  );
  const historyOf = db.prepare(
    "SELECT at, action, request_id AS requestId FROM event_history WHERE event_id = ? ORDER BY at, rowid",
  ) as Statement<[string], HistoryEntry>;

  /**
   * Makes a finished event (dead, delivered or filtered) pending and due now, restarting its retry
   * schedule; history stays. A filtered event is then delivered like any other: the filter decides
   * only at ingest.
   */
  function redeliverRef(ref: EventRef, now: number, requestId: string | null): void {
    addHistory.run(ref.id, now, "redeliver", requestId);
    if (ref.status === "pending") {
      makeDue.run(now, ref.seq);
      return;
    }
    // Ordering: queue behind the key's open events; the one ahead unblocks it when it finishes.
    const blocked = ref.orderKey !== null && events.keyHasOpen(ref.route, ref.orderKey) ? 1 : 0;
    reopen.run({ seq: ref.seq, now, blocked });
  }

  /** Cursor (exclusive) and, for a bounded scan, the lowest seq to look at (inclusive). */
  function range(beforeSeq: number | null, floorSeq: number | null) {
    const extra: string[] = [];
    const params: Bound = {};
    if (beforeSeq !== null) {
      extra.push("seq < @before");
      params.before = beforeSeq;
    }
    if (floorSeq !== null) {
      extra.push("seq >= @floor");
      params.floor = floorSeq;
    }
    return { extra, params };
  }

  function select<R>(
    columns: string,
    filter: EventFilter,
    beforeSeq: number | null,
    floorSeq: number | null,
    limit: number,
  ): R[] {
    const r = range(beforeSeq, floorSeq);
    const w = whereOf(filter, r.extra);
    const stmt = prepare(`SELECT ${columns} FROM events ${w.cond} ORDER BY seq DESC LIMIT @limit`);
    return stmt.all({ ...w.params, ...r.params, limit }) as R[];
  }

  return {
    /** How SQLite runs the first page of this search. */
    plan(filter: EventFilter, beforeSeq: number | null): SearchPlan {
      const r = range(beforeSeq, null);
      const w = whereOf(filter, r.extra);
      const sql = `EXPLAIN QUERY PLAN SELECT ${SUMMARY} FROM events ${w.cond} ORDER BY seq DESC LIMIT @limit`;
      const rows = prepare(sql).all({ ...w.params, ...r.params, limit: 1 }) as Array<{ detail: string }>;
      return planOf(rows.map((row) => row.detail));
    },
    /** Newest first below `beforeSeq` (the cursor, exclusive), down to `floorSeq` (inclusive) if given. */
    list(filter: EventFilter, beforeSeq: number | null, limit: number, floorSeq: number | null = null) {
      return select<EventSummary>(SUMMARY, filter, beforeSeq, floorSeq, limit);
    },
    /** Like list, but only what a bulk change needs. */
    refs(filter: EventFilter, beforeSeq: number | null, limit: number, floorSeq: number | null = null) {
      return select<EventRef>(REF, filter, beforeSeq, floorSeq, limit);
    },
    /** How many match below `beforeSeq` and down to `floorSeq`, when given. */
    count(filter: EventFilter, beforeSeq: number | null, floorSeq: number | null): number {
      const r = range(beforeSeq, floorSeq);
      const w = whereOf(filter, r.extra);
      return prepare(`SELECT count(*) FROM events ${w.cond}`)
        .pluck()
        .get({ ...w.params, ...r.params }) as number;
    },
    get(id: string, withBody: boolean): EventDetail | null {
      const row = byId.get(id);
      if (!row) return null;
      const body = withBody ? (bodyById.get(id) ?? null) : null;
      return { ...row, headers: JSON.parse(row.headers) as Array<[string, string]>, body };
    },
    history(id: string): HistoryEntry[] {
      return historyOf.all(id);
    },
    /** Highest seq so far: bulk changes stop there, so events they touch cannot come round again. */
    maxSeq(): number {
      return maxSeq.get() ?? 0;
    },
    minSeq(): number {
      return minSeq.get() ?? 0;
    },
    /** Redelivers one event: a leased one is left alone, a pending one is only made due now. */
    redeliver(id: string, now: number, isLeased: (seq: number) => boolean): AdminChange {
      const ref = refById.get(id);
      if (!ref) return { result: "not_found" };
      if (isLeased(ref.seq)) return { result: "delivering" };
      redeliverRef(ref, now, null);
      return { result: "ok", ref };
    },
    /**
     * Redelivers the events with these seqs, as they are now: gone or leased ones are skipped.
     * Each gets a history row naming the request. Returns the events changed, with their old status.
     */
    redeliverSeqs(
      seqs: readonly number[],
      now: number,
      isLeased: (seq: number) => boolean,
      requestId: string | null,
    ): { changed: EventRef[]; skipped: number } {
      const changed: EventRef[] = [];
      let skipped = 0;
      for (const seq of seqs) {
        const ref = refBySeq.get(seq);
        if (!ref || isLeased(seq)) {
          skipped++;
          continue;
        }
        redeliverRef(ref, now, requestId);
        changed.push(ref);
      }
      return { changed, skipped };
    },
    /** Deletes an event, its attempts and history; an ordered open event lets the next of its key go. */
    discard(id: string, isLeased: (seq: number) => boolean): AdminChange {
      const ref = refById.get(id);
      if (!ref) return { result: "not_found" };
      if (isLeased(ref.seq)) return { result: "delivering" };
      deleteEvent.run(ref.seq);
      deleteAttempts.run(ref.id);
      deleteHistory.run(ref.id);
      if (ref.orderKey !== null && ref.status === "pending") events.unblockNext(ref.route, ref.orderKey);
      return { result: "ok", ref };
    },
  };
}

export type EventAdminQueries = ReturnType<typeof createEventAdminQueries>;
