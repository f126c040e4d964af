import type { RouteConfig } from "../config/types.js";
import type { AttemptResult, DueEvent } from "../model.js";
import type { EventUpdate } from "../store/index.js";
import { nextAttempt } from "./backoff.js";

/**
 * What becomes of an event after one attempt: delivered on 2xx, dead on a permanent status or an
 * exhausted policy, otherwise pending again at the next scheduled time. The one place that
 * decides an event's status after delivery.
 */
export function decide(
  event: DueEvent,
  result: AttemptResult,
  route: Pick<RouteConfig, "retry" | "permanentStatuses">,
  random: number,
): EventUpdate {
  const attempts = event.attempts + 1;
  const now = result.startedAt + result.durationMs;
  const base = {
    seq: event.seq,
    attempts,
    lastReason: result.failure?.reason ?? null,
    lastDetail: result.failure?.detail ?? null,
    lastStatus: result.statusCode,
  };
  if (result.ok) {
    return { ...base, status: "delivered", nextAttemptAt: now, deliveredAt: now, finishedAt: now };
  }
  const dead = { ...base, status: "dead", nextAttemptAt: now, deliveredAt: null, finishedAt: now } as const;
  if (result.statusCode !== null && route.permanentStatuses.includes(result.statusCode)) return dead;
  const next = nextAttempt({
    policy: route.retry,
    attemptsDone: attempts - event.scheduleBase,
    receivedAt: event.scheduleStart,
    now,
    retryAfterMs: result.retryAfterMs,
    random,
  });
  if (next.kind === "give_up") return dead;
  return { ...base, status: "pending", nextAttemptAt: next.at, deliveredAt: null, finishedAt: null };
}
