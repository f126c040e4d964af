import type { AlertEvent } from "../config/alert-events.js";
import type { DisabledRecord } from "../gate.js";
import type { ThrottleStatus } from "../model.js";

export type { AlertEvent };

/** What is wrong with storage: outcomes cannot be committed, or the database file is gone. */
export type StorageProblem = "outcomes_unrecorded" | "database_missing";

/** What a receiver gets: Slack-compatible `text` plus machine-readable details. */
export interface AlertPayload {
  event: AlertEvent;
  /** The route concerned, or null when the alert is about the whole queue. */
  route: string | null;
  /** One line for humans (Slack, Mattermost and Teams incoming webhooks show it as is). */
  text: string;
  /** ISO time the alert was raised. */
  at: string;
  [detail: string]: unknown;
}

const minutes = (ms: number) =>
  ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;

export function breakerOpened(route: string, disabled: DisabledRecord | null, failures: number, at: number) {
  const why = disabled ? ` (${disabled.code} ${disabled.sub_type})` : "";
  return {
    event: "breaker_open",
    route,
    text: `hookbuffer: delivery to route "${route}" paused after ${failures} consecutive failures${why}. Webhooks are still accepted and stored.`,
    at: new Date(at).toISOString(),
    consecutive_failures: failures,
    disabled,
  } satisfies AlertPayload;
}

export function throttled(route: string, status: ThrottleStatus, at: number) {
  const until = status.until ? ` until ${status.until}` : "";
  return {
    event: "throttled",
    route,
    text: `hookbuffer: the upstream of route "${route}" asked to slow down (${status.why ?? "throttled"}); delivery is throttled${until}. Webhooks are still accepted and stored.`,
    at: new Date(at).toISOString(),
    why: status.why,
    until: status.until,
    rate_per_second: status.currentPerSecond,
  } satisfies AlertPayload;
}

export function breakerClosed(route: string, at: number) {
  return {
    event: "breaker_closed",
    route,
    text: `hookbuffer: delivery to route "${route}" resumed.`,
    at: new Date(at).toISOString(),
  } satisfies AlertPayload;
}

export function backlogOld(ageMs: number, thresholdMs: number, pending: number, at: number) {
  return {
    event: "backlog_age",
    route: null,
    text: `hookbuffer: the oldest undelivered webhook is ${minutes(ageMs)} old (threshold ${minutes(thresholdMs)}); ${pending} events wait.`,
    at: new Date(at).toISOString(),
    oldest_pending_age_ms: ageMs,
    threshold_ms: thresholdMs,
    pending,
  } satisfies AlertPayload;
}

export function wentDead(
  route: string,
  count: number,
  last: { reason: string | null; detail: string | null },
  at: number,
) {
  const cause = last.reason ? ` Last failure: ${last.reason} / ${last.detail ?? ""}.` : "";
  return {
    event: "dead",
    route,
    text: `hookbuffer: ${count} event${count === 1 ? "" : "s"} on route "${route}" went dead (retries exhausted).${cause} Redeliver from the dashboard or with \`hookbuffer redeliver --status dead\`.`,
    at: new Date(at).toISOString(),
    count,
    last_reason: last.reason,
    last_detail: last.detail,
  } satisfies AlertPayload;
}

export function storageFailing(problem: StorageProblem, detail: string, at: number) {
  const what =
    problem === "outcomes_unrecorded"
      ? `delivery paused: outcomes cannot be recorded (${detail}). Delivered outcomes are kept in memory and retried; new webhooks get 503 while the disk is full.`
      : `the database file was removed or replaced while running (${detail}). New webhooks get 503; restart hookbuffer once the file is back in place.`;
  return {
    event: "storage_failing",
    route: null,
    text: `hookbuffer: ${what}`,
    at: new Date(at).toISOString(),
    problem,
    detail,
  } satisfies AlertPayload;
}

export function storageRecovered(problem: StorageProblem, at: number) {
  return {
    event: "storage_recovered",
    route: null,
    text: `hookbuffer: storage recovered (${problem}); delivery and ingest continue.`,
    at: new Date(at).toISOString(),
    problem,
  } satisfies AlertPayload;
}
