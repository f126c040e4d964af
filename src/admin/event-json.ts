import { redactHeaders } from "../log.js";
import type { RouteDelivery } from "../model.js";
import type { AttemptRecord, EventDetail, EventSummary, HistoryEntry, QueueCounts } from "../store/index.js";
import { isSampled, parseTraceparent } from "../tracing/trace-context.js";
import { bodyView } from "./body-view.js";
import type { SearchExplain } from "./event-search.js";

/** Wire shapes of the events API: ISO times, snake_case keys. */

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function eventJson(e: EventSummary) {
  const finished = e.status === "delivered" || e.status === "dead" || e.status === "filtered";
  return {
    id: e.id,
    route: e.route,
    status: e.status,
    method: e.method,
    path: e.path,
    query: e.query,
    received_at: iso(e.receivedAt),
    attempts: e.attempts,
    next_attempt_at: finished ? null : iso(e.nextAttemptAt),
    last_reason: e.lastReason,
    last_detail: e.lastDetail,
    last_status: e.lastStatus,
    delivered_at: isoOrNull(e.deliveredAt),
    body_size: e.bodySize,
  };
}

export function attemptJson(a: AttemptRecord) {
  return {
    n: a.n,
    started_at: iso(a.startedAt),
    duration_ms: a.durationMs,
    outcome: a.outcome,
    reason: a.reason,
    detail: a.detail,
    status_code: a.statusCode,
    error: a.error,
    response:
      a.statusCode === null
        ? null
        : {
            status: a.statusCode,
            size: a.responseSize,
            body:
              a.responseBody === null
                ? null
                : bodyView(a.responseBody, a.responseSize ?? a.responseBody.length),
          },
  };
}

/**
 * One event in full: `attempts` becomes the attempt history; the count stays as `attempt_count`.
 * Credential and signature headers are masked; `body` is for reading, `body_base64` (asked for
 * with `?body=1`) is the exact bytes.
 */
export function eventDetailJson(
  e: EventDetail,
  attempts: AttemptRecord[],
  history: HistoryEntry[],
  withBase64: boolean,
) {
  const { attempts: count, ...summary } = eventJson(e);
  return {
    ...summary,
    attempt_count: count,
    headers: redactHeaders(e.headers) as Array<[string, string]>,
    body: e.body === null ? null : bodyView(e.body, e.body.length),
    attempts: attempts.map(attemptJson),
    history: history.map((h) => ({ at: iso(h.at), action: h.action, request_id: h.requestId })),
    trace: traceJson(e.traceParent),
    ...(e.body === null || !withBase64 ? {} : { body_base64: e.body.toString("base64") }),
  };
}

/** The event's trace (README, Tracing): its id, to look it up in the tracing backend; null when untraced. */
function traceJson(traceParent: string | null) {
  const ref = traceParent === null ? null : parseTraceparent(traceParent);
  if (ref === null) return null;
  return { trace_id: ref.traceId, ingest_span_id: ref.spanId, sampled: isSampled(ref) };
}

/** How a search ran: the index SQLite used, or how much it scanned and whether it stopped short. */
export function explainJson(x: SearchExplain) {
  const { plan } = x;
  let hint: string;
  if (!plan.scan) hint = `uses index ${plan.index}`;
  else {
    hint = `scanned ${x.rowsScanned} rows${x.partial ? ", partial: repeat with next_cursor to scan further" : ""}; no index serves this filter (see README, Searching events)`;
  }
  return {
    index: plan.index,
    scan: plan.scan,
    rows_scanned: x.rowsScanned,
    partial: x.partial,
    hint,
    plan: plan.detail,
  };
}

export function routeJson(r: Pick<RouteDelivery, "name" | "state" | "disabled"> & { queue: QueueCounts }) {
  const { pending, delivering, delivered, dead, filtered, openBytes } = r.queue;
  return {
    name: r.name,
    state: r.state,
    disabled: r.disabled,
    queue: { pending, delivering, delivered, dead, filtered, open_bytes: openBytes },
  };
}

export type EventJson = ReturnType<typeof eventJson>;
export type RouteJson = ReturnType<typeof routeJson>;
