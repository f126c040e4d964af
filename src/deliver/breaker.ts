/** The circuit breaker: how attempts move a route's gate (src/gate.ts), as pure functions. */
import type { BreakerConfig, BreakerCount } from "../config/types.js";
import { activeGate, type DisabledRecord, type FailureCategory, type Gate } from "../gate.js";
import type { Classification } from "../model.js";

const CODES: Record<FailureCategory, { code: DisabledRecord["code"]; sub_type: string; words: string }> = {
  other: {
    code: 25001,
    sub_type: "WEBHOOK_DISABLED_FAILED_OTHER",
    words: "could not connect or failed otherwise",
  },
  "4xx": { code: 25002, sub_type: "WEBHOOK_DISABLED_RECEIVED_4XX_ERROR", words: "received 4xx responses" },
  "5xx": { code: 25003, sub_type: "WEBHOOK_DISABLED_RECEIVED_5XX_ERROR", words: "received 5xx responses" },
  timeout: {
    code: 25004,
    sub_type: "WEBHOOK_DISABLED_TIMEOUT_ON_RESPONSE",
    words: "timed out waiting for responses",
  },
};

export function categoryOf(failure: Classification): FailureCategory {
  if (failure.reason === "request_timeout") return "timeout";
  if (failure.reason === "error_status_code") {
    if (failure.detail.startsWith("4")) return "4xx";
    if (failure.detail.startsWith("5")) return "5xx";
  }
  return "other";
}

/** The `breaker.count` class of a failed attempt. */
function countClass(failure: Classification): BreakerCount {
  switch (failure.reason) {
    case "could_not_connect":
      return "connect";
    case "request_timeout":
      return "timeout";
    case "unclassified":
      return "unclassified";
    case "error_status_code":
      return `${failure.detail.charAt(0)}xx` as BreakerCount;
  }
}

/**
 * Whether a failed attempt counts toward the breaker: its class or its status code is listed in
 * `breaker.count`. A route open to junk (unsigned requests its bot answers with 401) can leave
 * 4xx out, so junk cannot hold real events back.
 */
export function countsTowardBreaker(
  cfg: Pick<BreakerConfig, "count">,
  failure: Classification,
  statusCode: number | null,
): boolean {
  return cfg.count.includes(countClass(failure)) || (statusCode !== null && cfg.count.includes(statusCode));
}

/** The category of most failures in the run; a tie goes to the latest of the tied ones. */
export function dominantCategory(run: FailureCategory[]): FailureCategory {
  const counts = new Map<FailureCategory, number>();
  for (const c of run) counts.set(c, (counts.get(c) ?? 0) + 1);
  let best: FailureCategory = run[run.length - 1] ?? "other";
  for (let i = run.length - 1; i >= 0; i--) {
    const c = run[i] as FailureCategory;
    if ((counts.get(c) ?? 0) > (counts.get(best) ?? 0)) best = c;
  }
  return best;
}

export function disabledRecord(run: FailureCategory[], failures: number, now: number): DisabledRecord {
  const { code, sub_type, words } = CODES[dominantCategory(run)];
  return {
    type: "WEBHOOK_DISABLED",
    code,
    sub_type,
    message: `Delivery paused after ${failures} consecutive failed attempts: ${words}. Events are still accepted and stored; a probe will retry.`,
    since: new Date(now).toISOString(),
  };
}

/**
 * The next state after an attempt. `probe` is true for the single half-open attempt; only its
 * failure lengthens the cooldown. Any success closes the breaker.
 */
export function afterAttempt(
  s: Gate,
  cfg: Omit<BreakerConfig, "count">,
  failure: Classification | null,
  probe: boolean,
  now: number,
): Gate {
  if (failure === null) {
    return s.state === "paused" ? withFailures(s, 0, []) : activeGate();
  }
  const consecutiveFailures = s.consecutiveFailures + 1;
  const recentFailures = [...s.recentFailures, categoryOf(failure)].slice(-Math.max(cfg.failures, 1));
  if (s.state === "open") {
    if (!probe) return withFailures(s, consecutiveFailures, recentFailures);
    const cooldownMs = Math.min((s.cooldownMs ?? cfg.cooldownMs) * 2, cfg.maxCooldownMs);
    const probeAt = now + cooldownMs;
    return { state: s.state, consecutiveFailures, recentFailures, disabled: s.disabled, cooldownMs, probeAt };
  }
  if (s.state === "active" && cfg.failures > 0 && consecutiveFailures >= cfg.failures) {
    return {
      state: "open",
      consecutiveFailures,
      recentFailures,
      disabled: disabledRecord(recentFailures, consecutiveFailures, now),
      cooldownMs: cfg.cooldownMs,
      probeAt: now + cfg.cooldownMs,
    };
  }
  return withFailures(s, consecutiveFailures, recentFailures);
}

/** `s` with new failure counts, spelled out: spread-then-extend is slow on V8 11, once per attempt. */
function withFailures(s: Gate, consecutiveFailures: number, recentFailures: FailureCategory[]): Gate {
  return {
    state: s.state,
    consecutiveFailures,
    recentFailures,
    disabled: s.disabled,
    cooldownMs: s.cooldownMs,
    probeAt: s.probeAt,
  };
}

/** How many deliveries the gate lets start now (before subtracting those in flight). */
export function allowance(s: Gate, concurrency: number, now: number): { slots: number; probe: boolean } {
  if (s.state === "active") return { slots: concurrency, probe: false };
  if (s.state === "open" && s.probeAt !== null && now >= s.probeAt) return { slots: 1, probe: true };
  return { slots: 0, probe: false };
}
