import type { AttemptRecord } from "../attempts.js";
import type { Queryable } from "./pool.js";

// A batch of attempt rows in one statement; a replayed outcome (same event and n) overwrites.
const INSERT_SQL = `
INSERT INTO attempts AS a (event_id, n, started_at, duration_ms, outcome, reason, detail, status_code, error,
  response_body, response_size)
SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::int[], $5::text[], $6::text[], $7::text[],
  $8::int[], $9::text[], $10::bytea[], $11::int[])
ON CONFLICT (event_id, n) DO UPDATE SET started_at = EXCLUDED.started_at, duration_ms = EXCLUDED.duration_ms,
  outcome = EXCLUDED.outcome, reason = EXCLUDED.reason, detail = EXCLUDED.detail,
  status_code = EXCLUDED.status_code, error = EXCLUDED.error, response_body = EXCLUDED.response_body,
  response_size = EXCLUDED.response_size`;

/** Attempt rows of the PostgreSQL store. */
export function createPgAttemptQueries(db: Queryable) {
  return {
    async insert(records: readonly AttemptRecord[]): Promise<void> {
      if (records.length === 0) return;
      const col = <T>(f: (a: AttemptRecord) => T) => records.map(f);
      await db.query(INSERT_SQL, [
        col((a) => a.eventId),
        col((a) => a.n),
        col((a) => a.startedAt),
        col((a) => a.durationMs),
        col((a) => a.outcome),
        col((a) => a.reason),
        col((a) => a.detail),
        col((a) => a.statusCode),
        col((a) => a.error),
        col((a) => a.responseBody),
        col((a) => a.responseSize),
      ]);
    },
    async forEvent(
      eventId: string,
    ): Promise<Array<{ n: number; outcome: string; status_code: number | null }>> {
      const { rows } = await db.query(
        "SELECT n, outcome, status_code FROM attempts WHERE event_id = $1 ORDER BY n",
        [eventId],
      );
      return rows;
    },
    /** Every attempt of an event, oldest first, as the SQLite store's forEvent gives them. */
    async records(eventId: string): Promise<AttemptRecord[]> {
      const { rows } = await db.query<AttemptRecord>(
        `SELECT event_id AS "eventId", n, started_at AS "startedAt", duration_ms AS "durationMs", outcome,
           reason, detail, status_code AS "statusCode", error, response_body AS "responseBody",
           response_size AS "responseSize"
         FROM attempts WHERE event_id = $1 ORDER BY n`,
        [eventId],
      );
      return rows;
    },
  };
}

export type PgAttemptQueries = ReturnType<typeof createPgAttemptQueries>;
