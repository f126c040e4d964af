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
 * A server's Retry-After (429/503) is honoured: the next attempt waits for the later of the
 * schedule and the header, but never longer than `maxDelayMs`, so a hostile or buggy header cannot
 * park an event for a year. The cap bounds only the header, never a delay the schedule asks for.
 */
export function honourRetryAfter(delayMs: number, retryAfterMs: number | null, maxDelayMs: number): number {
  if (retryAfterMs === null) return delayMs;
  return Math.max(delayMs, Math.min(retryAfterMs, maxDelayMs));
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
  const at = input.now + honourRetryAfter(delay, input.retryAfterMs, input.policy.maxDelayMs);
  const { maxAgeMs } = input.policy;
  if (maxAgeMs !== null && at - input.receivedAt > maxAgeMs) return { kind: "give_up", why: "max_age" };
  return { kind: "retry", at };
}
