/**
 * The PostgreSQL store's event reads for the admin API (src/store/reads.ts): one query per page,
 * newest first by seq. The lease lives in the row, so every replica sees the same `delivering`.
 */
import type { AttemptRecord } from "../attempts.js";
import type { EventDetail, EventRef, EventSummary, HistoryEntry, SearchPlan } from "../event-admin.js";
import type { EventFilter } from "../event-filter.js";
import type { RecordedRequest } from "../idempotency.js";
import type { EventReads, SearchExplain } from "../reads.js";
import { createPgAttemptQueries } from "./attempts.js";
import { binder, pgFilterSql, SHOWN_STATUS } from "./event-filter.js";
import type { Queryable } from "./pool.js";

// Columns aliased to the shapes of src/store/event-admin.ts (quoted: PostgreSQL folds names).
const SUMMARY = `e.seq, e.id, e.route, ${SHOWN_STATUS} AS status, e.method, e.path, e.query,
  e.received_at AS "receivedAt", e.attempts, e.next_attempt_at AS "nextAttemptAt",
  e.last_reason AS "lastReason", e.last_detail AS "lastDetail", e.last_status AS "lastStatus",
  e.delivered_at AS "deliveredAt", e.body_size AS "bodySize"`;
// Bytes an event holds for storage.max_bytes: its body and the upstream answers stored for it.
const REF = `e.seq, e.id, e.route, e.status, e.body_size + e.response_bytes AS "bodySize",
  e.order_key AS "orderKey"`;

/**
 * There is no scan budget here: PostgreSQL runs the search as one statement and its planner picks
 * the index, so the answer is never partial.
 */
const explain = (): SearchExplain => {
  const plan: SearchPlan = { index: null, scan: false, detail: ["postgres: one query, newest first by seq"] };
  return { plan, rowsScanned: null, partial: false };
};

/** The SELECT of `columns` for a filter, below the cursor, newest first. */
export function pageSql(columns: string, filter: EventFilter, cursor: number | null, limit: number) {
  const f = pgFilterSql(filter);
  const bind = binder(f.params);
  const terms = cursor === null ? f.terms : [...f.terms, `e.seq < ${bind(cursor)}`];
  const where = terms.length > 0 ? `WHERE ${terms.join(" AND ")}` : "";
  return {
    sql: `SELECT ${columns} FROM events e ${f.join} ${where} ORDER BY e.seq DESC LIMIT ${bind(limit)}`,
    params: f.params,
  };
}

export function createPgEventReads(db: Queryable): EventReads {
  const attempts = createPgAttemptQueries(db);
  async function select<R>(columns: string, filter: EventFilter, cursor: number | null, limit: number) {
    const q = pageSql(columns, filter, cursor, limit);
    return (await db.query(q.sql, q.params)).rows as R[];
  }
  return {
    async list(filter, cursor, limit) {
      const rows = await select<EventSummary>(SUMMARY, filter, cursor, limit);
      return { rows, explain: explain(), resumeAt: null };
    },
    refs: (filter, limit) => select<EventRef>(REF, filter, null, limit),
    async count(filter) {
      const f = pgFilterSql(filter);
      const where = f.terms.length > 0 ? `WHERE ${f.terms.join(" AND ")}` : "";
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*) AS n FROM events e ${f.join} ${where}`,
        f.params,
      );
      return rows[0]?.n ?? 0;
    },
    async get(id) {
      const { rows } = await db.query<
        EventSummary & { headers: string; body: Buffer; traceParent: string | null }
      >(
        `SELECT ${SUMMARY}, e.headers, e.body, e.trace_parent AS "traceParent" FROM events e WHERE e.id = $1`,
        [id],
      );
      const row = rows[0];
      if (row === undefined) return null;
      return { ...row, headers: JSON.parse(row.headers) as Array<[string, string]> } satisfies EventDetail;
    },
    attempts: (id): Promise<AttemptRecord[]> => attempts.records(id),
    async history(id) {
      const { rows } = await db.query<HistoryEntry>(
        `SELECT at, action, request_id AS "requestId" FROM event_history WHERE event_id = $1 ORDER BY at, n`,
        [id],
      );
      return rows;
    },
    async request(key) {
      const { rows } = await db.query<RecordedRequest>(
        "SELECT fingerprint, response FROM admin_requests WHERE key = $1",
        [key],
      );
      return rows[0] ?? null;
    },
  };
}
