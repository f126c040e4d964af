import type { Database, Statement } from "better-sqlite3";
import type { Reason } from "../model.js";

export interface AttemptRecord {
  eventId: string;
  /** 1-based attempt number. */
  n: number;
  startedAt: number;
  durationMs: number;
  outcome: "delivered" | "failed";
  reason: Reason | null;
  detail: string | null;
  statusCode: number | null;
  error: string | null;
  /** The response body's first bytes (capped), or null when no response came. */
  responseBody: Buffer | null;
  /** Response body bytes the upstream sent in all, or null. */
  responseSize: number | null;
}

interface AttemptRow {
  event_id: string;
  n: number;
  started_at: number;
  duration_ms: number;
  outcome: "delivered" | "failed";
  reason: Reason | null;
  detail: string | null;
  status_code: number | null;
  error: string | null;
  response_body: Buffer | null;
  response_size: number | null;
}

export function createAttemptQueries(db: Database) {
  const insert = db.prepare(
    `INSERT OR REPLACE INTO attempts (event_id, n, started_at, duration_ms, outcome, reason, detail, status_code,
       error, response_body, response_size)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const forEvent = db.prepare("SELECT * FROM attempts WHERE event_id = ? ORDER BY n") as Statement<
    [string],
    AttemptRow
  >;
  return {
    insert(a: AttemptRecord): void {
      insert.run(
        a.eventId,
        a.n,
        a.startedAt,
        a.durationMs,
        a.outcome,
        a.reason,
        a.detail,
        a.statusCode,
        a.error,
        a.responseBody,
        a.responseSize,
      );
    },
    forEvent(eventId: string): AttemptRecord[] {
      return forEvent.all(eventId).map((r) => ({
        eventId: r.event_id,
        n: r.n,
        startedAt: r.started_at,
        durationMs: r.duration_ms,
        outcome: r.outcome,
        reason: r.reason,
        detail: r.detail,
        statusCode: r.status_code,
        error: r.error,
        responseBody: r.response_body,
        responseSize: r.response_size,
      }));
    },
  };
}

export type AttemptQueries = ReturnType<typeof createAttemptQueries>;
