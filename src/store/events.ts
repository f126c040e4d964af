import type { Database, Statement } from "better-sqlite3";
import type { EventStatus, Reason, StoredEvent } from "../model.js";

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
}

/** The outcome the deliverer decided for a claimed event. */
export interface EventUpdate {
  seq: number;
  status: Exclude<EventStatus, "delivering">;
  attempts: number;
  nextAttemptAt: number;
  lastReason: Reason | null;
  lastDetail: string | null;
  lastStatus: number | null;
  deliveredAt: number | null;
  finishedAt: number | null;
}

interface EventRow {
  seq: number;
  id: string;
  route: string;
  received_at: number;
  method: string;
  path: string;
  query: string;
  headers: string;
  body: Buffer;
  status: EventStatus;
  attempts: number;
  schedule_base: number;
  schedule_start: number;
  next_attempt_at: number;
  order_key: string | null;
  last_reason: Reason | null;
  last_detail: string | null;
  last_status: number | null;
  delivered_at: number | null;
}

const COLUMNS = `seq, id, route, received_at, method, path, query, headers, body, status, attempts,
  schedule_base, schedule_start, next_attempt_at, order_key, last_reason, last_detail, last_status, delivered_at`;

export function toEvent(row: EventRow): StoredEvent {
  return {
    seq: row.seq,
    id: row.id,
    route: row.route,
    receivedAt: row.received_at,
    method: row.method,
    path: row.path,
    query: row.query,
    headers: JSON.parse(row.headers) as Array<[string, string]>,
    body: row.body,
    status: row.status,
    attempts: row.attempts,
    scheduleBase: row.schedule_base,
    scheduleStart: row.schedule_start,
    nextAttemptAt: row.next_attempt_at,
    orderKey: row.order_key,
    lastReason: row.last_reason,
    lastDetail: row.last_detail,
    lastStatus: row.last_status,
    deliveredAt: row.delivered_at,
  };
}

/** Prepared statements for the events table; every statement is prepared once. */
export function createEventQueries(db: Database) {
  const insert = db.prepare(
    `INSERT INTO events (id, route, received_at, method, path, query, headers, body, body_size,
       dedup_key, order_key, blocked, status, next_attempt_at, schedule_start)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
  );
  // Claiming is a read: leases live in the deliverer's memory (one process holds the database, see
  // open.ts), so a claim writes nothing and a crash leaves nothing to recover.
  const due = db
    .prepare(
      `SELECT seq FROM events
       WHERE route = ? AND status = 'pending' AND blocked = 0 AND next_attempt_at <= ?
       ORDER BY next_attempt_at, seq LIMIT ?`,
    )
    .pluck() as Statement<[string, number, number], number>;
  const rowBySeq = db.prepare(`SELECT ${COLUMNS} FROM events WHERE seq = ?`) as Statement<[number], EventRow>;
  const nextDue = db
    .prepare(
      `SELECT next_attempt_at FROM events WHERE route = ? AND status = 'pending' AND blocked = 0
       ORDER BY next_attempt_at, seq LIMIT 1`,
    )
    .pluck() as Statement<[string], number>;
  const update = db.prepare(
    `UPDATE events SET status = @status, attempts = @attempts, next_attempt_at = @nextAttemptAt,
       last_reason = @lastReason, last_detail = @lastDetail, last_status = @lastStatus,
       delivered_at = @deliveredAt, finished_at = @finishedAt
     WHERE seq = @seq`,
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
  const countByStatus = db.prepare(
    "SELECT route, status, COUNT(*) AS n, COALESCE(SUM(body_size), 0) AS bytes FROM events GROUP BY route, status",
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
    /** Stores one event; an ordered event queues behind open events of its key. Returns its seq. */
    insert(e: NewEvent): number {
      const blocked = e.orderKey !== null && openInKey.get(e.route, e.orderKey) !== undefined ? 1 : 0;
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
          e.nextAttemptAt,
          e.receivedAt,
        ).lastInsertRowid,
      );
    },
    /**
     * Up to `limit` due events of a route, oldest due first, skipping those already leased. The
     * index is read `leased.size` rows further, so leased rows cannot crowd out claimable ones.
     */
    claimDue(route: string, now: number, limit: number, leased: ReadonlySet<number>): StoredEvent[] {
      const events: StoredEvent[] = [];
      for (const seq of due.all(route, now, limit + leased.size)) {
        if (leased.has(seq)) continue;
        const row = rowBySeq.get(seq);
        if (row) events.push(toEvent(row));
        if (events.length === limit) break;
      }
      return events;
    },
    /** Epoch ms of the route's earliest claimable event, or null when nothing waits. */
    nextDueAt(route: string): number | null {
      return nextDue.get(route) ?? null;
    },
    /** Records the deliverer's decision; a finished ordered event lets the next of its key go. */
    update(u: EventUpdate, orderKey: string | null, route: string): void {
      update.run(u);
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
    oldestOpenReceivedAt(): number | null {
      return oldestOpen.get() ?? null;
    },
  };
}

export type EventQueries = ReturnType<typeof createEventQueries>;
