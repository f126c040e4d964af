import type { DueEvent } from "../../src/model.js";
import type { NewEvent } from "../../src/store/index.js";
import type { PgOutcome } from "../../src/store/postgres/claims.js";
import type { PgNewEvent } from "../../src/store/postgres/events.js";

/**
 * An event to store, as ingest would hand it over: a POST of `{}` to / on route "default",
 * received at 0 and due when received, unless `fields` say otherwise.
 */
export function newEvent(fields: Partial<NewEvent> & { id: string }): NewEvent {
  const receivedAt = fields.receivedAt ?? 0;
  return {
    route: "default",
    receivedAt,
    method: "POST",
    path: "/",
    query: "",
    headers: [],
    body: Buffer.from("{}"),
    dedupKey: null,
    orderKey: null,
    nextAttemptAt: receivedAt,
    ...fields,
  };
}

/** The same for the PostgreSQL store, whose events also carry their dedup expiry (none here). */
export function newPgEvent(fields: Partial<PgNewEvent> & { id: string }): PgNewEvent {
  return { dedupExpiresAt: null, ...newEvent(fields), ...fields };
}

/** The outcome of a claimed event its upstream answered 200, as the PostgreSQL store records it. */
export const pgDelivered = (e: DueEvent): PgOutcome => ({
  seq: e.seq,
  status: "delivered",
  attempts: e.attempts + 1,
  nextAttemptAt: e.nextAttemptAt,
  lastReason: null,
  lastDetail: null,
  lastStatus: 200,
  deliveredAt: Date.now(),
  finishedAt: Date.now(),
  responseBytes: 0,
});
