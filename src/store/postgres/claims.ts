import type { DueEvent } from "../../model.js";
import type { EventUpdate } from "../events.js";
import { NOW_MS } from "./events.js";
import type { Queryable } from "./pool.js";

/**
 * The outcome the deliverer decided for a claimed event, as for the SQLite store (the lease is
 * released with it), plus the response bytes stored with the attempt, added to the event's total.
 */
export interface PgOutcome extends EventUpdate {
  responseBytes: number;
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

/** Where the claim's values come from: bind parameters, by position. */
interface ClaimParams {
  route: string;
  owner: string;
  leaseMs: string;
  limit: string;
  /** An array of seqs to leave alone (the folded statement's own outcomes). */
  skip?: string;
}

// One statement: pick due rows nobody holds (or whose lease ran out) with SKIP LOCKED, so
// concurrent claimers pass each other's rows instead of queueing; a row another claimer updated
// meanwhile is re-checked against its new lease. An ordered event is claimable only while no
// earlier event of its key is open, leased or not, anywhere: the check reads rows, not locks, so
// SKIP LOCKED cannot let a later event of a key overtake an earlier one.
const claimSql = (p: ClaimParams) => `
UPDATE events e SET locked_by = ${p.owner}, lease_until = ${NOW_MS} + ${p.leaseMs}
FROM (
  SELECT c.seq FROM events c
  WHERE c.route = ${p.route} AND c.status = 'pending' AND c.next_attempt_at <= ${NOW_MS}
    AND (c.lease_until IS NULL OR c.lease_until < ${NOW_MS})
    AND (c.order_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM events o
      WHERE o.route = c.route AND o.order_key = c.order_key AND o.status = 'pending' AND o.seq < c.seq))
    ${p.skip === undefined ? "" : `AND c.seq <> ALL(${p.skip})`}
  ORDER BY c.next_attempt_at, c.seq
  LIMIT ${p.limit}
  FOR UPDATE SKIP LOCKED
) due
WHERE e.seq = due.seq
RETURNING ${DUE_COLUMNS}`;

const CLAIM_SQL = claimSql({ route: "$1", owner: "$2", leaseMs: "$3", limit: "$4" });

// Only the holder's outcome counts: once a lease ran out and another replica claimed the event,
// the late outcome of the first finds locked_by changed and records nothing.
const OUTCOME_UPDATE = `
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

// Outcomes and the next claim in one statement, so one commit: half the round trips and commits
// of a drain. Both parts read one snapshot, so an event settled here still looks open to this
// claim: the next event of its key waits for the following claim, never the other way round.
const SETTLE_AND_CLAIM_SQL = `
WITH settled AS (${OUTCOME_UPDATE}),
claimed AS (${claimSql({ route: "$12", owner: "$1", leaseMs: "$13", limit: "$14", skip: "$2::bigint[]" })})
SELECT s.settled, c.* FROM (SELECT array_agg(seq) AS settled FROM settled) s LEFT JOIN claimed c ON true`;

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

function outcomeParams(owner: string, outcomes: readonly PgOutcome[]): unknown[] {
  const col = <T>(f: (o: PgOutcome) => T) => outcomes.map(f);
  return [
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
  ];
}

const byClaimOrder = (a: DueRow, b: DueRow) => a.next_attempt_at - b.next_attempt_at || a.seq - b.seq;

/** Claims and outcomes of the PostgreSQL store: the delivery side of the events table. */
export function createPgClaimQueries(db: Queryable) {
  return {
    /**
     * Claims up to `limit` due events of a route for `owner`, leased for `leaseMs` from the
     * database clock; ordered by (next_attempt_at, seq).
     */
    async claim(route: string, owner: string, leaseMs: number, limit: number): Promise<DueEvent[]> {
      const { rows } = await db.query<DueRow>(CLAIM_SQL, [route, owner, leaseMs, limit]);
      return rows.sort(byClaimOrder).map((r) => toDueEvent(r));
    },

    /** Gives `owner`'s leases on these events back, so any replica may claim them at once. */
    async release(owner: string, seqs: readonly number[]): Promise<void> {
      await db.query(
        "UPDATE events SET locked_by = NULL, lease_until = NULL WHERE seq = ANY($1) AND locked_by = $2",
        [seqs, owner],
      );
    },

    /**
     * Gives back every lease `owner` holds on the route except `keep`: after a claim whose answer
     * was lost (it may have committed), the leases nobody here knows of.
     */
    async releaseAllBut(route: string, owner: string, keep: readonly number[]): Promise<void> {
      await db.query(
        `UPDATE events SET locked_by = NULL, lease_until = NULL
         WHERE route = $1 AND lease_until IS NOT NULL AND locked_by = $2 AND status = 'pending'
           AND seq <> ALL($3)`,
        [route, owner, keep],
      );
    },

    /**
     * Takes the route's half-open probe for `owner` when it is due and nobody holds it: a lease on
     * the route's row, one cluster-wide.
     */
    async takeProbe(route: string, owner: string, leaseMs: number): Promise<boolean> {
      const { rows } = await db.query(
        `UPDATE routes_state SET probe_by = $2, probe_until = ${NOW_MS} + $3
         WHERE route = $1 AND state = 'open' AND probe_at <= ${NOW_MS}
           AND (probe_until IS NULL OR probe_until < ${NOW_MS})
         RETURNING route`,
        [route, owner, leaseMs],
      );
      return rows.length === 1;
    },

    /**
     * Records outcomes of events `owner` holds and releases their leases. Returns the seqs
     * recorded: an event whose lease was lost to another claimer is left alone.
     */
    async recordOutcomes(owner: string, outcomes: readonly PgOutcome[]): Promise<number[]> {
      if (outcomes.length === 0) return [];
      const { rows } = await db.query<{ seq: number }>(OUTCOME_UPDATE, outcomeParams(owner, outcomes));
      return rows.map((r) => r.seq);
    },

    /**
     * `recordOutcomes` and `claim` in one statement and one commit: what a drain does between two
     * batches. Returns the seqs recorded and the events claimed.
     */
    async settleAndClaim(
      owner: string,
      outcomes: readonly PgOutcome[],
      route: string,
      leaseMs: number,
      limit: number,
    ): Promise<{ settled: number[]; claimed: DueEvent[] }> {
      const params = [...outcomeParams(owner, outcomes), route, leaseMs, limit];
      const { rows } = await db.query<DueRow & { settled: string[] | null }>(SETTLE_AND_CLAIM_SQL, params);
      // bigint[] comes back as strings; a claim that found nothing is one row of NULLs.
      const settled = (rows[0]?.settled ?? []).map(Number);
      const claimed = rows.filter((r) => r.seq !== null).sort(byClaimOrder);
      return { settled, claimed: claimed.map((r) => toDueEvent(r)) };
    },
  };
}

export type PgClaimQueries = ReturnType<typeof createPgClaimQueries>;
