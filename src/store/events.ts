import type { Database, Statement } from "better-sqlite3";
import type { DueEvent, EventStatus, Reason, StoredTrace } from "../model.js";

/** What ingest hands the store for one new event. */
export interface NewEvent {
  id: string;
  route: string;
  receivedAt: number;
  method: string;
  path: string;
  query: string;
  headers: Array<[string, string]>;
  body: Buffer;
  dedupKey: string | null;
  orderKey: string | null;
  nextAttemptAt: number;
  /** Trace context, with tracing on. */
  trace?: StoredTrace | null;
  /**
   * True: left undelivered by the route's filter. Stored finished at once (retention treats it as
   * delivered), outside the claim index and the backlog.
   */
  filtered?: boolean;
}

/** The outcome the deliverer decided for a claimed event. */
export interface EventUpdate {
  seq: number;
  status: Exclude<EventStatus, "delivering" | "filtered">;
  attempts: number;
  nextAttemptAt: number;
  lastReason: Reason | null;
  lastDetail: string | null;
  lastStatus: number | null;
  deliveredAt: number | null;
  finishedAt: number | null;
}

/**
 * Where a route's previous claim stopped, in claim order `(next_attempt_at, seq)`: every due row
 * up to it is claimed already, so the next claim starts after it instead of walking past leases.
 */
export interface ClaimCursor {
  at: number;
  seq: number;
}

/**
 * A claimed row with just the columns a delivery needs, as an array in `DUE_COLUMNS` order (raw
 * mode: better-sqlite3 builds no object per row, a third of a claim's cost).
 */
type DueRow = [
  seq: number,
  id: string,
  receivedAt: number,
  method: string,
  path: string,
  query: string,
  headers: string,
  body: Buffer,
  attempts: number,
  scheduleBase: number,
  scheduleStart: number,
  orderKey: string | null,
  nextAttemptAt: number,
  traceParent: string | null,
  traceState: string | null,
  responseBytes: number,
];

const DUE_COLUMNS = `seq, id, received_at, method, path, query, headers, body, attempts, schedule_base,
  schedule_start, order_key, next_attempt_at, trace_parent, trace_state, response_bytes`;

function toDueEvent(route: string, r: DueRow): DueEvent {
  return {
    seq: r[0],
    id: r[1],
    route,
    receivedAt: r[2],
    method: r[3],
    path: r[4],
    query: r[5],
    headers: JSON.parse(r[6]) as Array<[string, string]>,
    body: r[7],
    // What the event holds toward storage.max_bytes: its body and the upstream answers kept so far.
    size: r[7].length + r[15],
    attempts: r[8],
    scheduleBase: r[9],
    scheduleStart: r[10],
    orderKey: r[11],
    nextAttemptAt: r[12],
    trace: r[13] === null ? null : { parent: r[13], state: r[14] },
  };
}

interface ClaimParams {
  route: string;
  now: number;
  limit: number;
  /** JSON array of seqs to leave out. */
  skip: string;
}

/**
 * One claim query over the three index ranges it may need: from the start; past a cursor, the rest
 * of the cursor's millisecond and then later ones. INDEXED BY: the planner may otherwise walk
 * events_status (status, seq), i.e. every route's backlog.
 */
function claimRanges<R>(db: Database, select: string, mode: (s: Statement) => Statement) {
  type Range = Statement<[ClaimParams & Partial<ClaimCursor>], R>;
  const prepare = (range: string) =>
    mode(
      db.prepare(
        `SELECT ${select} FROM events INDEXED BY events_due
         WHERE route = @route AND status = 'pending' AND blocked = 0 AND ${range}
           AND seq NOT IN (SELECT value FROM json_each(@skip))
         ORDER BY next_attempt_at, seq LIMIT @limit`,
      ),
    ) as Range;
  return {
    fromStart: prepare("next_attempt_at <= @now"),
    sameMs: prepare("next_attempt_at = @at AND seq > @seq"),
    later: prepare("next_attempt_at > @at AND next_attempt_at <= @now"),
  };
}

/** Runs a claim query from the start, or past the cursor (its millisecond first, then later). */
function walk<R>(q: ReturnType<typeof claimRanges<R>>, p: ClaimParams, after: ClaimCursor | null): R[] {
  if (after === null) return q.fromStart.all(p);
  const ranged = { route: p.route, now: p.now, limit: p.limit, skip: p.skip, at: after.at, seq: after.seq };
  const rows = after.at <= p.now ? q.sameMs.all(ranged) : [];
  if (rows.length < p.limit) {
    ranged.limit = p.limit - rows.length;
    rows.push(...q.later.all(ranged));
  }
  return rows;
}

/** Prepared statements for the events table; every statement is prepared once. */
export function createEventQueries(db: Database) {
  const insert = db.prepare(
    `INSERT INTO events (id, route, received_at, method, path, query, headers, body, body_size,
       dedup_key, order_key, blocked, status, next_attempt_at, schedule_start, trace_parent, trace_state,
       finished_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // Claiming is a read: leases live in the deliverer's memory (one process holds the database, see
  // open.ts), so a claim writes nothing and a crash leaves nothing to recover. Leased seqs to skip
  // come in as one JSON array; SQLite skips them while walking the index and reads only the rows it
  // returns. With a cursor the walk starts after it, so leased rows behind it cost nothing.
  const claims = claimRanges<DueRow>(db, DUE_COLUMNS, (s) => s.raw());
  const firstDue = claimRanges<number>(db, "next_attempt_at", (s) => s.pluck());
  const update = db.prepare(
    `UPDATE events SET status = ?, attempts = ?, next_attempt_at = ?, last_reason = ?, last_detail = ?,
       last_status = ?, delivered_at = ?, finished_at = ?, response_bytes = response_bytes + ?
     WHERE seq = ?`,
  );
  const openInKey = db
    .prepare(
      `SELECT 1 FROM events WHERE route = ? AND order_key = ? AND status = 'pending'
       LIMIT 1`,
    )
    .pluck() as Statement<[string, string], number>;
  const nextInKey = db
    .prepare(
      `SELECT seq FROM events WHERE route = ? AND order_key = ? AND status = 'pending'
       ORDER BY seq LIMIT 1`,
    )
    .pluck() as Statement<[string, string], number>;
  const unblock = db.prepare("UPDATE events SET blocked = 0 WHERE seq = ? AND status = 'pending'");
  // Bounded: an admin read must stay cheap however deep the backlog is.
  const countDue = db
    .prepare(
      `SELECT COUNT(*) FROM (SELECT 1 FROM events INDEXED BY events_due
         WHERE route = ? AND status = 'pending' AND blocked = 0 AND next_attempt_at <= ? LIMIT ?)`,
    )
    .pluck() as Statement<[string, number, number], number>;
  const countByStatus = db.prepare(
    `SELECT route, status, COUNT(*) AS n, COALESCE(SUM(body_size + response_bytes), 0) AS bytes
     FROM events GROUP BY route, status`,
  ) as Statement<[], { route: string; status: EventStatus; n: number; bytes: number }>;
  // seq order is arrival order, so the first pending row by (status, seq) is the oldest: O(log n).
  const oldestOpen = db
    .prepare("SELECT received_at FROM events WHERE status = 'pending' ORDER BY seq LIMIT 1")
    .pluck() as Statement<[], number | null>;

  /** Lets the oldest open event of a key go once the one ahead of it finished or left. */
  function unblockNext(route: string, orderKey: string): void {
    const next = nextInKey.get(route, orderKey);
    if (next !== undefined) unblock.run(next);
  }

  return {
    /**
     * Stores one event; an ordered event queues behind open events of its key (a filtered one is
     * not open, so it neither waits nor holds others up). Returns its seq.
     */
    insert(e: NewEvent): number {
      const filtered = e.filtered === true;
      const blocked =
        !filtered && e.orderKey !== null && openInKey.get(e.route, e.orderKey) !== undefined ? 1 : 0;
      return Number(
        insert.run(
          e.id,
          e.route,
          e.receivedAt,
          e.method,
          e.path,
          e.query,
          JSON.stringify(e.headers),
          e.body,
          e.body.length,
          e.dedupKey,
          e.orderKey,
          blocked,
          filtered ? "filtered" : "pending",
          e.nextAttemptAt,
          e.receivedAt,
          e.trace?.parent ?? null,
          e.trace?.state ?? null,
          filtered ? e.receivedAt : null,
        ).lastInsertRowid,
      );
    },
    /**
     * Up to `limit` due events of a route in `(next_attempt_at, seq)` order, leaving out `skip`
     * (leased seqs) and, given a cursor, everything up to it.
     */
    claimDue(
      route: string,
      now: number,
      limit: number,
      skip: readonly number[],
      after: ClaimCursor | null = null,
    ): DueEvent[] {
      return walk(claims, { route, now, limit, skip: JSON.stringify(skip) }, after).map((r) =>
        toDueEvent(route, r),
      );
    },
    /**
     * Epoch ms of the route's earliest event the next claim would return once due (past the
     * cursor, not skipped), or null when nothing waits.
     */
    nextDueAt(route: string, skip: readonly number[], after: ClaimCursor | null = null): number | null {
      const params = { route, now: Number.MAX_SAFE_INTEGER, limit: 1, skip: JSON.stringify(skip) };
      return walk(firstDue, params, after)[0] ?? null;
    },
    /**
     * Records the deliverer's decision and the response bytes stored with its attempt; a finished
     * ordered event lets the next of its key go.
     */
    update(u: EventUpdate, orderKey: string | null, route: string, responseBytes = 0): void {
      update.run(
        u.status,
        u.attempts,
        u.nextAttemptAt,
        u.lastReason,
        u.lastDetail,
        u.lastStatus,
        u.deliveredAt,
        u.finishedAt,
        responseBytes,
        u.seq,
      );
      if (orderKey !== null && u.status !== "pending") unblockNext(route, orderKey);
    },
    unblockNext,
    /** True when an event of this ordering key is not yet finished on the route. */
    keyHasOpen(route: string, orderKey: string): boolean {
      return openInKey.get(route, orderKey) !== undefined;
    },
    countByStatus() {
      return countByStatus.all();
    },
    /** received_at of the oldest event not yet delivered or dead, or null. */
    /** Pending, unblocked events of the route due by `now` (claimed ones included), at most `cap`. */
    countDue(route: string, now: number, cap: number): number {
      return countDue.get(route, now, cap) ?? 0;
    },
    oldestOpenReceivedAt(): number | null {
      return oldestOpen.get() ?? null;
    },
  };
}

export type EventQueries = ReturnType<typeof createEventQueries>;
