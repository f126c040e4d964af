import type { Database, Statement } from "better-sqlite3";
import type { DueEvent, EventStatus, Reason } from "../model.js";

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

/** A claimed row, with just the columns a delivery needs. */
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
}

function toDueEvent(row: DueRow): DueEvent {
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
    attempts: row.attempts,
    scheduleBase: row.schedule_base,
    scheduleStart: row.schedule_start,
    orderKey: row.order_key,
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
  // open.ts), so a claim writes nothing and a crash leaves nothing to recover. Leased seqs come in
  // as one JSON array, so SQLite skips them while walking the index and reads only the rows it
  // returns, with just the columns a delivery needs.
  const due = db.prepare(
    `SELECT seq, id, route, received_at, method, path, query, headers, body, attempts, schedule_base,
       schedule_start, order_key
     FROM events
     WHERE route = ? AND status = 'pending' AND blocked = 0 AND next_attempt_at <= ?
       AND seq NOT IN (SELECT value FROM json_each(?))
     ORDER BY next_attempt_at, seq LIMIT ?`,
  ) as Statement<[string, number, string, number], DueRow>;
  const nextDue = db
    .prepare(
      `SELECT next_attempt_at FROM events WHERE route = ? AND status = 'pending' AND blocked = 0
       ORDER BY next_attempt_at, seq LIMIT 1`,
    )
    .pluck() as Statement<[string], number>;
  const update = db.prepare(
    `UPDATE events SET status = ?, attempts = ?, next_attempt_at = ?, last_reason = ?, last_detail = ?,
       last_status = ?, delivered_at = ?, finished_at = ?
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
    /** Up to `limit` due events of a route, oldest due first, skipping those already leased. */
    claimDue(route: string, now: number, limit: number, leased: ReadonlySet<number>): DueEvent[] {
      return due.all(route, now, JSON.stringify([...leased]), limit).map(toDueEvent);
    },
    /** Epoch ms of the route's earliest claimable event, or null when nothing waits. */
    nextDueAt(route: string): number | null {
      return nextDue.get(route) ?? null;
    },
    /** Records the deliverer's decision; a finished ordered event lets the next of its key go. */
    update(u: EventUpdate, orderKey: string | null, route: string): void {
      update.run(
        u.status,
        u.attempts,
        u.nextAttemptAt,
        u.lastReason,
        u.lastDetail,
        u.lastStatus,
        u.deliveredAt,
        u.finishedAt,
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
    oldestOpenReceivedAt(): number | null {
      return oldestOpen.get() ?? null;
    },
  };
}

export type EventQueries = ReturnType<typeof createEventQueries>;
