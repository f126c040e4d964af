/**
 * A route's start-rate policy, as plain data and pure functions: the configured token bucket
 * (`delivery.rate_limit`), a pause when the upstream names a Retry-After on a 429 or 503, and
 * additive-increase / multiplicative-decrease of the rate on a 429 without one. The deliverer asks
 * `take` before it hands an attempt over and reports each outcome to `afterResult`; waiting for a
 * token is never an attempt.
 */
import type { RateLimit } from "../config/types.js";

/** The slowest an AIMD back-off goes: one attempt a minute. */
export const FLOOR_PER_MS = 1 / 60_000;

/** A recovering rate grows at most this often, by a tenth of its target each time. */
const STEP_MS = 1_000;
const STEPS_TO_TARGET = 10;

export interface LimiterConfig {
  /** The configured rate limit, or null for none. */
  limit: RateLimit | null;
  /** Cap on a Retry-After pause (the route's retry.max_delay), ms. */
  maxPauseMs: number;
  /** The route's concurrency, to estimate an unlimited route's rate. */
  concurrency: number;
}

export interface LimiterState {
  /** Tokens in the bucket (fractional while refilling). */
  tokens: number;
  /** When `tokens` was last brought up to date, epoch ms. */
  refilledAt: number;
  /** Current start rate in attempts per ms; null: unlimited (no rate_limit and no back-off). */
  perMs: number | null;
  /** The rate a back-off recovers to (the configured one, or what the route ran at before). */
  targetPerMs: number | null;
  /** No attempt starts before this moment (a Retry-After), epoch ms. */
  pausedUntil: number | null;
  /** Why the route is throttled, or null when it runs at its configured rate. */
  why: string | null;
  /** When the current throttle episode started, epoch ms. */
  since: number | null;
  lastStepAt: number;
}

export function initialLimiter(cfg: LimiterConfig, now: number): LimiterState {
  const perMs = cfg.limit ? cfg.limit.perSecond / 1_000 : null;
  return {
    tokens: cfg.limit?.burst ?? 0,
    refilledAt: now,
    perMs,
    targetPerMs: perMs,
    pausedUntil: null,
    why: null,
    since: null,
    lastStepAt: now,
  };
}

/** The bucket size at the current rate: the configured burst, or 1 while backing off unconfigured. */
function burstOf(s: LimiterState, cfg: LimiterConfig): number {
  return cfg.limit && s.perMs === s.targetPerMs ? cfg.limit.burst : 1;
}

function refill(s: LimiterState, cfg: LimiterConfig, now: number): LimiterState {
  if (s.perMs === null || now <= s.refilledAt) return s;
  const tokens = Math.min(burstOf(s, cfg), s.tokens + (now - s.refilledAt) * s.perMs);
  return { ...s, tokens, refilledAt: now };
}

/** Whether the route is throttled now (paused, or below its configured rate). */
export function isThrottled(s: LimiterState): boolean {
  return s.why !== null;
}

/**
 * Takes a token for one attempt starting now. Not ok: `waitMs` says when to ask again (the end of
 * a pause, or the next token).
 */
export function take(
  s: LimiterState,
  cfg: LimiterConfig,
  now: number,
): { state: LimiterState; ok: boolean; waitMs: number } {
  if (s.pausedUntil !== null && now < s.pausedUntil)
    return { state: s, ok: false, waitMs: s.pausedUntil - now };
  let state = s;
  if (s.pausedUntil !== null) {
    // The pause is over: resume at the rate, one token at hand, not with a full burst.
    // The episode ends with the first success after it (afterResult).
    state = { ...s, pausedUntil: null, tokens: s.perMs === null ? 0 : 1, refilledAt: now, lastStepAt: now };
  }
  const { perMs } = state;
  if (perMs === null) return { state, ok: true, waitMs: 0 };
  state = refill(state, cfg, now);
  if (state.tokens >= 1) return { state: { ...state, tokens: state.tokens - 1 }, ok: true, waitMs: 0 };
  return { state, ok: false, waitMs: Math.max(1, Math.ceil((1 - state.tokens) / perMs)) };
}

export interface ResultSignal {
  ok: boolean;
  statusCode: number | null;
  retryAfterMs: number | null;
  durationMs: number;
}

/**
 * The state after an attempt's outcome: a 429 or 503 with Retry-After pauses the route until then
 * (capped at max_delay); a 429 without halves the rate (never below FLOOR_PER_MS); a success while
 * backing off raises the rate by a step, and at its target the episode ends.
 */
export function afterResult(s: LimiterState, cfg: LimiterConfig, r: ResultSignal, now: number): LimiterState {
  if (r.retryAfterMs !== null && (r.statusCode === 429 || r.statusCode === 503)) {
    const until = now + Math.min(r.retryAfterMs, cfg.maxPauseMs);
    if (s.pausedUntil !== null && s.pausedUntil >= until) return s;
    return {
      ...s,
      pausedUntil: until,
      why: `${r.statusCode} with Retry-After`,
      since: s.since ?? now,
    };
  }
  if (r.statusCode === 429) {
    // Unlimited so far: it ran at about `concurrency` attempts per attempt duration.
    const current = s.perMs ?? cfg.concurrency / Math.max(1, r.durationMs);
    const perMs = Math.max(FLOOR_PER_MS, current / 2);
    return {
      ...s,
      perMs,
      targetPerMs: s.targetPerMs ?? current,
      tokens: Math.min(s.tokens, 1),
      refilledAt: now,
      why: "429 without Retry-After: rate halved",
      since: s.since ?? now,
      lastStepAt: now,
    };
  }
  if (!r.ok || s.why === null || s.pausedUntil !== null) return s;
  const configured = cfg.limit ? cfg.limit.perSecond / 1_000 : null;
  if (s.perMs !== null && s.targetPerMs !== null && s.perMs < s.targetPerMs) {
    if (now - s.lastStepAt < STEP_MS) return s;
    const perMs = Math.min(s.targetPerMs, s.perMs + s.targetPerMs / STEPS_TO_TARGET);
    if (perMs < s.targetPerMs) return { ...refill(s, cfg, now), perMs, lastStepAt: now };
  }
  // Recovered (or a pause is over and the upstream accepts again): back to the configured rate,
  // or to no limit at all.
  return {
    ...refill(s, cfg, now),
    perMs: configured,
    targetPerMs: configured,
    why: null,
    since: null,
    lastStepAt: now,
  };
}
