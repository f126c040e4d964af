import type { RouteConfig } from "../config/types.js";
import type { AttemptResult, DueEvent } from "../model.js";
import { bucketLabel } from "../stats/histogram.js";
import type { EventUpdate, Store, WriteContext } from "../store/index.js";

/**
 * Writes one attempt's outcome inside a write op: the event's new status (a queue move), the
 * attempt row and the per-minute counters (attempt duration, delivered with its lag, the failure's
 * reason and detail, dead). Called only by the deliverer, which alone decides `update`. Returns the bytes of response
 * body stored with the attempt, which the event now holds toward storage.max_bytes.
 */
export function writeOutcome(
  store: Store,
  ctx: WriteContext,
  route: RouteConfig,
  event: DueEvent,
  result: AttemptResult,
  update: EventUpdate,
): number {
  const kept = result.responseBody;
  const responseBody =
    kept && kept.length > 0 ? Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength) : null;
  const stored = responseBody?.length ?? 0;
  store.events.update(update, event.orderKey, route.name, stored);
  // The row was pending all along (the lease lives in memory); a kept response adds to its bytes.
  ctx.moved(route.name, "pending", update.status, event.size);
  if (stored > 0) ctx.moved(route.name, null, update.status, stored, 0);
  store.attempts.insert({
    eventId: event.id,
    n: update.attempts,
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    outcome: result.ok ? "delivered" : "failed",
    reason: result.failure?.reason ?? null,
    detail: result.failure?.detail ?? null,
    statusCode: result.statusCode,
    error: result.error,
    responseBody,
    responseSize: result.responseSize ?? null,
  });
  const at = result.startedAt + result.durationMs;
  ctx.count(at, route.name, "attempt_ms", bucketLabel(result.durationMs));
  if (result.ok) {
    ctx.count(at, route.name, "delivered");
    ctx.count(at, route.name, "lag_ms", bucketLabel(at - event.receivedAt));
  } else if (result.failure) {
    ctx.count(at, route.name, result.failure.reason, result.failure.detail);
  }
  if (update.status === "dead") ctx.count(at, route.name, "dead");
  return stored;
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
