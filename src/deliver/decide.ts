import type { RouteConfig } from "../config/types.js";
import type { AttemptResult, DueEvent } from "../model.js";
import type { EventUpdate } from "../store/index.js";
import { nextAttempt } from "./backoff.js";

/**
 * What becomes of an event after one attempt: delivered on 2xx, dead on a permanent status or an
 * exhausted policy, otherwise pending again at the next scheduled time. The one place that
 * decides an event's status after delivery (docs/architecture.md#one-place-decides-an-events-status).
 */
export function decide(
  event: DueEvent,
  result: AttemptResult,
  route: Pick<RouteConfig, "retry" | "permanentStatuses">,
  random: number,
): EventUpdate {
  const attempts = event.attempts + 1;
  const now = result.startedAt + result.durationMs;
  // Whole literals, not `{ ...base, status }`: spread-then-extend costs microseconds per call on
  // V8 11 (Node 20), and this runs once per attempt.
  const outcome = (
    status: EventUpdate["status"],
    nextAttemptAt: number,
    deliveredAt: number | null,
    finishedAt: number | null,
  ): EventUpdate => ({
    seq: event.seq,
    status,
    attempts,
    nextAttemptAt,
    lastReason: result.failure?.reason ?? null,
    lastDetail: result.failure?.detail ?? null,
    lastStatus: result.statusCode,
    deliveredAt,
    finishedAt,
  });
  if (result.ok) return outcome("delivered", now, now, now);
  if (result.statusCode !== null && route.permanentStatuses.includes(result.statusCode)) {
    return outcome("dead", now, null, now);
  }
  const next = nextAttempt({
    policy: route.retry,
    attemptsDone: attempts - event.scheduleBase,
    receivedAt: event.scheduleStart,
    now,
    retryAfterMs: result.retryAfterMs,
    random,
  });
  if (next.kind === "give_up") return outcome("dead", now, null, now);
  return outcome("pending", next.at, null, null);
}
