import { createHash } from "node:crypto";
import type { NewEvent } from "../events.js";
import type { Queryable } from "./pool.js";

/** The channel every replica LISTENs on; the payload is the route that has new events. */
/**
 * The wake-up channel of the store in `schema`: one per schema, so deployments sharing a database
 * in schemas of their own do not wake each other. A hash keeps it within PostgreSQL's 63 bytes.
 */
export function eventsChannel(schema: string): string {
  return `hookbuffer_events_${createHash("md5").update(schema).digest("hex").slice(0, 16)}`;
}

// The same name computed in SQL from the schema the statement runs in (the search_path's first).
const CHANNEL_SQL = "'hookbuffer_events_' || left(md5(current_schema()), 16)";

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

// Column order of the unnest() input of a stored batch.
const INSERT_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::bytea[], $9::text[], $10::text[], $11::bigint[], $12::text[], $13::text[],
    $14::bigint[], $16::boolean[]) WITH ORDINALITY
    AS t(id, route, received_at, method, path, query, headers, body, dedup_key, order_key,
      next_attempt_at, trace_parent, trace_state, dedup_expires_at, filtered, ord)
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
    order_key, status, next_attempt_at, schedule_start, trace_parent, trace_state, finished_at)
  SELECT i.id, i.route, i.received_at, i.method, i.path, i.query, i.headers, i.body, length(i.body),
    i.dedup_key, i.order_key, CASE WHEN i.filtered THEN 'filtered' ELSE 'pending' END, i.next_attempt_at,
    i.received_at, i.trace_parent, i.trace_state, CASE WHEN i.filtered THEN i.received_at END
  FROM input i
  WHERE i.dedup_key IS NULL OR EXISTS (SELECT 1 FROM keys k WHERE k.event_id = i.id)
  -- Arrival order is seq order, which per-key order follows.
  ORDER BY i.ord
  RETURNING seq, id, route, status
),
-- Delivered at COMMIT, to every replica's LISTEN connection; one per route (equal payloads fold).
woken AS (SELECT pg_notify(${CHANNEL_SQL}, route)
  FROM (SELECT DISTINCT route FROM stored WHERE status = 'pending') r)
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
        col((e) => e.filtered === true),
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
  };
}

export type PgEventQueries = ReturnType<typeof createPgEventQueries>;
