import type { QueueCounts } from "../stats/gauges.js";
import type { AttemptRecord, EventDetail, EventSummary } from "../store/index.js";
import type { RouteView } from "./events-service.js";

/** Wire shapes of the events API: ISO times, snake_case keys. */

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function eventJson(e: EventSummary) {
  const finished = e.status === "delivered" || e.status === "dead";
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
  };
}

/** One event in full: `attempts` becomes the attempt history; the count stays as `attempt_count`. */
export function eventDetailJson(e: EventDetail, attempts: AttemptRecord[]) {
  const { attempts: count, ...summary } = eventJson(e);
  return {
    ...summary,
    attempt_count: count,
    headers: e.headers,
    attempts: attempts.map(attemptJson),
    ...(e.body === null ? {} : { body_base64: e.body.toString("base64") }),
  };
}

export function routeJson(r: RouteView & { queue: QueueCounts }) {
  const { pending, delivering, delivered, dead, openBytes } = r.queue;
  return {
    name: r.name,
    state: r.state,
    disabled: r.disabled,
    queue: { pending, delivering, delivered, dead, open_bytes: openBytes },
  };
}

export type EventJson = ReturnType<typeof eventJson>;
export type RouteJson = ReturnType<typeof routeJson>;
