/**
 * What a command changes besides its rows, recorded the same way by both stores: the queue moves
 * and counters of a stored webhook, an attempt's outcome, an operator's change or a prune.
 */
import type { AttemptRecord } from "./attempts.js";
import type { RecordOutcome, StoredWebhook } from "./commands.js";
import type { EventRef } from "./event-admin.js";
import type { PrunedGroup } from "./retention.js";
import type { WriteContext } from "./writer.js";

export type Recorder = Pick<WriteContext, "count" | "moved">;

export function webhookStored(
  ctx: Recorder,
  route: string,
  now: number,
  bytes: number,
  stored: StoredWebhook,
): void {
  if (stored.kind === "duplicate") {
    ctx.count(now, route, "duplicate");
    return;
  }
  ctx.count(now, route, "received");
  if (stored.filtered) {
    ctx.count(now, route, "filtered");
    ctx.moved(route, null, "filtered", bytes);
  } else {
    ctx.moved(route, null, "pending", bytes);
  }
}

/** The response body an attempt keeps (empty: none), as a Buffer over the same memory. */
export function keptResponse(command: RecordOutcome): Buffer | null {
  const kept = command.result.responseBody;
  return kept && kept.length > 0 ? Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength) : null;
}

/** The attempt row of an outcome. */
export function attemptRow(command: RecordOutcome, responseBody: Buffer | null): AttemptRecord {
  const { result, update, event } = command;
  return {
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
  };
}

/** The row was pending all along (leased); a kept response adds to the bytes it holds. */
export function outcomeRecorded(ctx: Recorder, command: RecordOutcome, storedBytes: number): void {
  const { route, update, event } = command;
  ctx.moved(route, "pending", update.status, event.size);
  if (storedBytes > 0) ctx.moved(route, null, update.status, storedBytes, 0);
  for (const c of command.counts) ctx.count(c.at, route, c.metric, c.detail);
}

export function reopened(ctx: Recorder, refs: readonly EventRef[]): void {
  for (const r of refs) if (r.status !== "pending") ctx.moved(r.route, r.status, "pending", r.bodySize);
}

export function discarded(ctx: Recorder, ref: EventRef): void {
  ctx.moved(ref.route, ref.status, null, ref.bodySize);
}

/** Finished events hold no open bytes, so only the counts move. */
export function pruned(ctx: Recorder, groups: readonly PrunedGroup[]): void {
  for (const g of groups) ctx.moved(g.route, g.status, null, 0, g.n);
}
