import type { RouteConfig } from "../config/types.js";
import type { AttemptResult, DueEvent } from "../model.js";
import { bucketLabel } from "../stats/histogram.js";
import type { EventUpdate, OutcomeCount } from "../store/index.js";

/**
 * The counters one attempt's outcome adds for its route (attempt duration, delivered with its lag,
 * the failure's reason and detail, dead), stamped with the attempt's end.
 */
export function outcomeCounts(event: DueEvent, result: AttemptResult, update: EventUpdate): OutcomeCount[] {
  const at = result.startedAt + result.durationMs;
  const counts: OutcomeCount[] = [{ at, metric: "attempt_ms", detail: bucketLabel(result.durationMs) }];
  if (result.ok) {
    counts.push(
      { at, metric: "delivered" },
      { at, metric: "lag_ms", detail: bucketLabel(at - event.receivedAt) },
    );
  } else if (result.failure) {
    counts.push({ at, metric: result.failure.reason, detail: result.failure.detail });
  }
  if (update.status === "dead") counts.push({ at, metric: "dead" });
  return counts;
}

/** The headers a replay carries: the stored ones (minus hop-by-hop) plus hookbuffer's own. */
export function replayHeaderExtras(route: RouteConfig, event: DueEvent): Array<[string, string]> {
  const extra: Array<[string, string]> = [
    ["X-Hookbuffer-Event-Id", event.id],
    ["X-Hookbuffer-Attempt", String(event.attempts + 1)],
    ["X-Hookbuffer-Received-At", new Date(event.receivedAt).toISOString()],
  ];
  if (route.verify) extra.push(["X-Hookbuffer-Verified", route.verify.scheme]);
  return extra;
}
