import type { RetryPolicy } from "../config/types.js";

/** When the next attempt happens, or why there is none. */
export type NextAttempt = { kind: "retry"; at: number } | { kind: "give_up"; why: "exhausted" | "max_age" };

/** Epoch ms of an event's first attempt. */
export function firstAttemptAt(policy: RetryPolicy, receivedAt: number): number {
  return policy.kind === "schedule" ? receivedAt + (policy.delaysMs[0] ?? 0) : receivedAt;
}

/**
 * The scheduled delay after `attemptsDone` attempts have failed, or null when the policy is
 * exhausted. `random` is in [0, 1) and only used for exponential jitter.
 */
export function scheduledDelay(policy: RetryPolicy, attemptsDone: number, random: number): number | null {
  if (policy.kind === "schedule") return policy.delaysMs[attemptsDone] ?? null;
  if (attemptsDone >= policy.maxAttempts) return null;
  const raw = Math.min(policy.maxDelayMs, policy.baseMs * policy.factor ** (attemptsDone - 1));
  const jittered = raw * (1 + policy.jitter * (2 * random - 1));
  return Math.max(0, Math.round(Math.min(jittered, policy.maxDelayMs)));
}

/**
 * Per Svix, a server's Retry-After (429/503) is honoured but clamped to [delay, 2 x delay], so a
 * hostile or buggy header can neither hammer the upstream nor park an event for a year.
 */
export function clampRetryAfter(delayMs: number, retryAfterMs: number | null): number {
  if (retryAfterMs === null) return delayMs;
  return Math.min(Math.max(retryAfterMs, delayMs), 2 * delayMs);
}

export interface NextAttemptInput {
  policy: RetryPolicy;
  /** Attempts made so far, the one that just failed included. */
  attemptsDone: number;
  receivedAt: number;
  now: number;
  retryAfterMs: number | null;
  random: number;
}

/** Decides when a failed event is tried again, bounded by the policy's max_age. */
export function nextAttempt(input: NextAttemptInput): NextAttempt {
  const delay = scheduledDelay(input.policy, input.attemptsDone, input.random);
  if (delay === null) return { kind: "give_up", why: "exhausted" };
  const at = input.now + clampRetryAfter(delay, input.retryAfterMs);
  const { maxAgeMs } = input.policy;
  if (maxAgeMs !== null && at - input.receivedAt > maxAgeMs) return { kind: "give_up", why: "max_age" };
  return { kind: "retry", at };
}
