import { describe, expect, test } from "vitest";
import type { RetryPolicy } from "../../src/config/types.js";
import { firstAttemptAt, honourRetryAfter, nextAttempt, scheduledDelay } from "../../src/deliver/backoff.js";

const schedule: RetryPolicy = {
  kind: "schedule",
  delaysMs: [0, 30_000, 3_600_000],
  maxDelayMs: 3_600_000,
  maxAgeMs: null,
};
const exponential: RetryPolicy = {
  kind: "exponential",
  baseMs: 1_000,
  factor: 2,
  maxDelayMs: 10_000,
  maxAttempts: 5,
  jitter: 0.2,
  maxAgeMs: null,
};

describe("backoff", () => {
  test("a schedule's first delay sets the first attempt", () => {
    expect(firstAttemptAt(schedule, 1_000)).toBe(1_000);
    expect(firstAttemptAt({ ...schedule, delaysMs: [5_000] }, 1_000)).toBe(6_000);
    expect(firstAttemptAt(exponential, 1_000)).toBe(1_000);
  });

  test("a schedule gives one more attempt per listed delay, then gives up", () => {
    expect(scheduledDelay(schedule, 1, 0.5)).toBe(30_000);
    expect(scheduledDelay(schedule, 2, 0.5)).toBe(3_600_000);
    expect(scheduledDelay(schedule, 3, 0.5)).toBeNull();
  });

  test("exponential delays grow by the factor, are capped, and stop at max_attempts", () => {
    expect(scheduledDelay(exponential, 1, 0.5)).toBe(1_000);
    expect(scheduledDelay(exponential, 2, 0.5)).toBe(2_000);
    expect(scheduledDelay(exponential, 4, 0.5)).toBe(8_000);
    expect(scheduledDelay(exponential, 5, 0.5)).toBeNull();
    expect(scheduledDelay({ ...exponential, maxAttempts: 100 }, 10, 0.5)).toBe(10_000);
  });

  test("jitter stays within plus or minus the configured fraction", () => {
    expect(scheduledDelay(exponential, 2, 0)).toBe(1_600);
    expect(scheduledDelay(exponential, 2, 0.999_999)).toBe(2_400);
  });

  test("Retry-After is honoured as the later of schedule and header, the header capped at max_delay", () => {
    expect(honourRetryAfter(30_000, null, 3_600_000)).toBe(30_000);
    expect(honourRetryAfter(30_000, 1_000, 3_600_000)).toBe(30_000);
    expect(honourRetryAfter(1_000, 120_000, 3_600_000)).toBe(120_000);
    expect(honourRetryAfter(30_000, 31_536_000_000, 3_600_000)).toBe(3_600_000);
    // The cap bounds the header only: a longer scheduled step stands.
    expect(honourRetryAfter(21_600_000, 31_536_000_000, 3_600_000)).toBe(21_600_000);
  });

  test("max_age turns a retry that would be too late into giving up", () => {
    const bounded: RetryPolicy = { ...schedule, maxAgeMs: 60_000 };
    const base = { attemptsDone: 1, receivedAt: 0, retryAfterMs: null, random: 0.5 };
    expect(nextAttempt({ ...base, policy: bounded, now: 10_000 })).toEqual({ kind: "retry", at: 40_000 });
    expect(nextAttempt({ ...base, policy: bounded, now: 40_000 })).toEqual({
      kind: "give_up",
      why: "max_age",
    });
    expect(nextAttempt({ ...base, policy: schedule, attemptsDone: 3, now: 0 })).toEqual({
      kind: "give_up",
      why: "exhausted",
    });
  });
});
