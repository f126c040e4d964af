import type { DueEvent, Reason } from "../../model.js";
import type { NewEvent } from "../events.js";
import type { Queryable } from "./pool.js";

/** The channel every replica LISTENs on; the payload is the route that has new events. */
export const EVENTS_CHANNEL = "hookbuffer_events";

/** The database clock as epoch ms: leases and due times are judged by one clock, not N replicas'. */
// now() is the transaction's start: stable within a statement, so the planner can use it in an
// index range.
export const NOW_MS = "(extract(epoch from now()) * 1000)::bigint";

/** One event to store, with the end of its dedup window when it has a dedup key. */
export interface PgNewEvent extends NewEvent {
  /** Epoch ms until which `dedupKey` keeps later events with the same key out; null without a key. */
  dedupExpiresAt: number | null;
}

/** What became of one event of a batch, in the batch's order. */
export type StoreResult =
  | { kind: "stored"; id: string; seq: number }
  /** An event inside its dedup window holds the key: `id` is that event's. */
  | { kind: "duplicate"; id: string };

/** The outcome the deliverer decided for a claimed event (the lease is released with it). */
export interface PgOutcome {
  seq: number;
  status: "pending" | "delivered" | "dead";
  attempts: number;
  /** Epoch ms of the next attempt (a retry), else the current value is kept as it was. */
  nextAttemptAt: number;
  lastReason: Reason | null;
  lastDetail: string | null;
  lastStatus: number | null;
  deliveredAt: number | null;
  finishedAt: number | null;
  /** Response bytes stored with the attempt, added to the event's total. */
  responseBytes: number;
}

// Column order of the unnest() input of a stored batch.
const INSERT_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::bytea[], $9::text[], $10::text[], $11::bigint[], $12::text[], $13::text[],
    $14::bigint[]) WITH ORDINALITY
    AS t(id, route, received_at, method, path, query, headers, body, dedup_key, order_key,
      next_attempt_at, trace_parent, trace_state, dedup_expires_at, ord)
),
-- Takes each key that is free or expired. A key another transaction is taking makes this one wait
-- for it, then see it taken: the unique key is what makes dedup hold across replicas. Every key
-- comes back with its holder, ours or the earlier event's.
keys AS (
  INSERT INTO dedup AS d (route, key, event_id, expires_at)
  SELECT route, dedup_key, id, dedup_expires_at FROM input WHERE dedup_key IS NOT NULL
  -- Keys in one order in every batch, so two replicas taking the same two keys cannot deadlock.
  ORDER BY route, dedup_key
  ON CONFLICT (route, key) DO UPDATE
    SET event_id = CASE WHEN d.expires_at <= $15 THEN EXCLUDED.event_id ELSE d.event_id END,
        expires_at = CASE WHEN d.expires_at <= $15 THEN EXCLUDED.expires_at ELSE d.expires_at END
  RETURNING d.route, d.key, d.event_id
),
stored AS (
  INSERT INTO events (id, route, received_at, method, path, query, headers, body, body_size, dedup_key,
    order_key, status, next_attempt_at, schedule_start, trace_parent, trace_state)
  SELECT i.id, i.route, i.received_at, i.method, i.path, i.query, i.headers, i.body, length(i.body),
    i.dedup_key, i.order_key, 'pending', i.next_attempt_at, i.received_at, i.trace_parent, i.trace_state
  FROM input i
  WHERE i.dedup_key IS NULL OR EXISTS (SELECT 1 FROM keys k WHERE k.event_id = i.id)
  -- Arrival order is seq order, which per-key order follows.
  ORDER BY i.ord
  RETURNING seq, id, route
),
-- Delivered at COMMIT, to every replica's LISTEN connection; one per route (equal payloads fold).
woken AS (SELECT pg_notify('${EVENTS_CHANNEL}', route) FROM (SELECT DISTINCT route FROM stored) r)
SELECT s.id, s.seq, NULL AS holder FROM stored s
UNION ALL
SELECT i.id, NULL, k.event_id FROM input i JOIN keys k ON k.route = i.route AND k.key = i.dedup_key
  WHERE k.event_id <> i.id
UNION ALL
SELECT NULL, count(*), NULL FROM woken`;

interface InsertRow {
  id: string | null;
  seq: number | null;
  holder: string | null;
}

/** Columns a delivery needs, as in the SQLite store's claim (src/store/events.ts). */
const DUE_COLUMNS = `e.seq, e.id, e.route, e.received_at, e.method, e.path, e.query, e.headers, e.body,
  e.attempts, e.schedule_base, e.schedule_start, e.order_key, e.next_attempt_at, e.trace_parent,
  e.trace_state, e.response_bytes`;

interface DueRow {
  seq: number;
  id: string;
  route: string;
  received_at: number;
  method: string;
  path: string;
  query: string;
  headers: string;
  body: Buffer;
  attempts: number;
  schedule_base: number;
  schedule_start: number;
  order_key: string | null;
  next_attempt_at: number;
  trace_parent: string | null;
  trace_state: string | null;
  response_bytes: number;
}

// One statement: pick due rows nobody holds (or whose lease ran out) with SKIP LOCKED, so
// concurrent claimers pass each other's rows instead of queueing; a row another claimer updated
// meanwhile is re-checked against its new lease. An ordered event is claimable only while no
// earlier event of its key is open, leased or not, anywhere: the check reads rows, not locks, so
// SKIP LOCKED cannot let a later event of a key overtake an earlier one.
const CLAIM_SQL = `
UPDATE events e SET locked_by = $2, lease_until = ${NOW_MS} + $3
FROM (
  SELECT c.seq FROM events c
  WHERE c.route = $1 AND c.status = 'pending' AND c.next_attempt_at <= ${NOW_MS}
    AND (c.lease_until IS NULL OR c.lease_until < ${NOW_MS})
    AND (c.order_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM events o
      WHERE o.route = c.route AND o.order_key = c.order_key AND o.status = 'pending' AND o.seq < c.seq))
  ORDER BY c.next_attempt_at, c.seq
  LIMIT $4
  FOR UPDATE SKIP LOCKED
) due
WHERE e.seq = due.seq
RETURNING ${DUE_COLUMNS}`;

// Only the holder's outcome counts: once a lease ran out and another replica claimed the event,
// the late outcome of the first finds locked_by changed and records nothing.
const OUTCOME_SQL = `
UPDATE events e SET status = u.status, attempts = u.attempts, next_attempt_at = u.next_attempt_at,
  last_reason = u.last_reason, last_detail = u.last_detail, last_status = u.last_status,
  delivered_at = u.delivered_at, finished_at = u.finished_at,
  response_bytes = e.response_bytes + u.response_bytes, locked_by = NULL, lease_until = NULL
FROM unnest($2::bigint[], $3::text[], $4::int[], $5::bigint[], $6::text[], $7::text[], $8::int[],
  $9::bigint[], $10::bigint[], $11::bigint[])
  AS u(seq, status, attempts, next_attempt_at, last_reason, last_detail, last_status, delivered_at,
    finished_at, response_bytes)
WHERE e.seq = u.seq AND e.locked_by = $1 AND e.status = 'pending'
RETURNING e.seq`;

function toDueEvent(r: DueRow): DueEvent {
  return {
    seq: r.seq,
    id: r.id,
    route: r.route,
    receivedAt: r.received_at,
    method: r.method,
    path: r.path,
    query: r.query,
    headers: JSON.parse(r.headers) as Array<[string, string]>,
    body: r.body,
    size: r.body.length + r.response_bytes,
    attempts: r.attempts,
    scheduleBase: r.schedule_base,
    scheduleStart: r.schedule_start,
    orderKey: r.order_key,
    nextAttemptAt: r.next_attempt_at,
    trace: r.trace_parent === null ? null : { parent: r.trace_parent, state: r.trace_state },
  };
}

/** The events queries of the PostgreSQL store; each runs on the pool or in a caller's transaction. */
export function createPgEventQueries(db: Queryable) {
  return {
    /**
     * Stores a batch (the requests of one event-loop turn) in one statement, so one commit: a
     * multi-row INSERT from unnest(), the dedup keys taken in the same statement, and a NOTIFY per
     * route that wakes the other replicas once it commits. Events sharing a key within the batch:
     * the first takes it, the rest are its duplicates.
     */
    async insertBatch(events: readonly PgNewEvent[], now: number): Promise<StoreResult[]> {
      const firstOfKey = new Map<string, PgNewEvent>();
      const sent: PgNewEvent[] = [];
      const sameBatch = new Map<PgNewEvent, PgNewEvent>();
      for (const e of events) {
        if (e.dedupKey === null) {
          sent.push(e);
          continue;
        }
        const k = JSON.stringify([e.route, e.dedupKey]);
        const first = firstOfKey.get(k);
        if (first === undefined) {
          firstOfKey.set(k, e);
          sent.push(e);
        } else sameBatch.set(e, first);
      }
      const col = <T>(f: (e: PgNewEvent) => T) => sent.map(f);
      const { rows } = await db.query<InsertRow>(INSERT_SQL, [
        col((e) => e.id),
        col((e) => e.route),
        col((e) => e.receivedAt),
        col((e) => e.method),
        col((e) => e.path),
        col((e) => e.query),
        col((e) => JSON.stringify(e.headers)),
        col((e) => e.body),
        col((e) => e.dedupKey),
        col((e) => e.orderKey),
        col((e) => e.nextAttemptAt),
        col((e) => e.trace?.parent ?? null),
        col((e) => e.trace?.state ?? null),
        col((e) => (e.dedupKey === null ? null : e.dedupExpiresAt)),
        now,
      ]);
      const byId = new Map<string, StoreResult>();
      for (const r of rows) {
        if (r.id === null) continue;
        byId.set(
          r.id,
          r.holder === null
            ? { kind: "stored", id: r.id, seq: r.seq as number }
            : { kind: "duplicate", id: r.holder },
        );
      }
      const result = (e: PgNewEvent): StoreResult => {
        const r = byId.get(e.id);
        if (r === undefined) throw new Error(`event ${e.id} neither stored nor found a duplicate`);
        return r;
      };
      return events.map((e) => {
        const first = sameBatch.get(e);
        if (first === undefined) return result(e);
        const r = result(first);
        return { kind: "duplicate", id: r.id };
      });
    },

    /**
     * Claims up to `limit` due events of a route for `owner`, leased for `leaseMs` from the
     * database clock; ordered by (next_attempt_at, seq).
     */
    async claim(route: string, owner: string, leaseMs: number, limit: number): Promise<DueEvent[]> {
      const { rows } = await db.query<DueRow>(CLAIM_SQL, [route, owner, leaseMs, limit]);
      return rows
        .sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.seq - b.seq)
        .map((r) => toDueEvent(r));
    },

    /**
     * Records outcomes of events `owner` holds and releases their leases. Returns the seqs
     * recorded: an event whose lease was lost to another claimer is left alone.
     */
    async recordOutcomes(owner: string, outcomes: readonly PgOutcome[]): Promise<number[]> {
      if (outcomes.length === 0) return [];
      const col = <T>(f: (o: PgOutcome) => T) => outcomes.map(f);
      const { rows } = await db.query<{ seq: number }>(OUTCOME_SQL, [
        owner,
        col((o) => o.seq),
        col((o) => o.status),
        col((o) => o.attempts),
        col((o) => o.nextAttemptAt),
        col((o) => o.lastReason),
        col((o) => o.lastDetail),
        col((o) => o.lastStatus),
        col((o) => o.deliveredAt),
        col((o) => o.finishedAt),
        col((o) => o.responseBytes),
      ]);
      return rows.map((r) => r.seq);
    },
  };
}

export type PgEventQueries = ReturnType<typeof createPgEventQueries>;
