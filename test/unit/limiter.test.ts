import { describe, expect, test } from "vitest";
import {
  afterResult,
  FLOOR_PER_MS,
  initialLimiter,
  isThrottled,
  type LimiterConfig,
  type LimiterState,
  take,
} from "../../src/deliver/limiter.js";

const cfg: LimiterConfig = {
  limit: { perSecond: 10, burst: 3, text: "10/s" },
  maxPauseMs: 60_000,
  concurrency: 4,
};
const ok = { ok: true, statusCode: 200, retryAfterMs: null, durationMs: 10 };
const tooMany = (retryAfterMs: number | null) => ({
  ok: false,
  statusCode: 429,
  retryAfterMs,
  durationMs: 10,
});

/** Takes tokens every `stepMs` from `from` to `to`; returns the moments a token was granted. */
function drain(s: LimiterState, c: LimiterConfig, from: number, to: number, stepMs = 1) {
  const granted: number[] = [];
  let state = s;
  for (let t = from; t < to; t += stepMs) {
    const r = take(state, c, t);
    state = r.state;
    if (r.ok) granted.push(t);
  }
  return { granted, state };
}

describe("start-rate limiter", () => {
  test("a token bucket: the burst at once, then the rate, and a wait that names the next token", () => {
    const { granted } = drain(initialLimiter(cfg, 0), cfg, 0, 1_000);
    expect(granted.slice(0, 3)).toEqual([0, 1, 2]);
    expect(granted).toHaveLength(3 + 9); // 3 at once, then one per 100 ms up to 999 ms
    const empty = take(
      take(take(take(initialLimiter(cfg, 0), cfg, 0).state, cfg, 0).state, cfg, 0).state,
      cfg,
      0,
    );
    expect(empty).toMatchObject({ ok: false, waitMs: 100 });
  });

  test("no rate_limit: every take succeeds and nothing is tracked", () => {
    const none: LimiterConfig = { ...cfg, limit: null };
    const s = initialLimiter(none, 0);
    expect(take(s, none, 5)).toEqual({ state: s, ok: true, waitMs: 0 });
    expect(afterResult(s, none, ok, 5)).toBe(s);
  });

  test("Retry-After on a 429 or 503 pauses until then, capped at max_delay; then the rate resumes without a burst", () => {
    const s = afterResult(initialLimiter(cfg, 0), cfg, tooMany(2_000), 100);
    expect(isThrottled(s)).toBe(true);
    expect(s).toMatchObject({ pausedUntil: 2_100, why: "429 with Retry-After", since: 100 });
    expect(take(s, cfg, 2_099)).toMatchObject({ ok: false, waitMs: 1 });
    const { granted } = drain(s, cfg, 2_100, 2_400);
    expect(granted).toEqual([2_100, 2_200, 2_300]);
    const capped = afterResult(initialLimiter(cfg, 0), cfg, { ...tooMany(999_999_000), statusCode: 503 }, 0);
    expect(capped.pausedUntil).toBe(60_000);
    // A 503 without Retry-After is an ordinary failure.
    expect(afterResult(initialLimiter(cfg, 0), cfg, { ...tooMany(null), statusCode: 503 }, 0).why).toBeNull();
  });

  test("the episode ends with the first success after the pause, not before", () => {
    let s = afterResult(initialLimiter(cfg, 0), cfg, tooMany(1_000), 0);
    s = afterResult(s, cfg, ok, 500); // an attempt in flight before the pause answered
    expect(isThrottled(s)).toBe(true);
    s = take(s, cfg, 1_000).state;
    expect(isThrottled(s)).toBe(true);
    s = afterResult(s, cfg, ok, 1_050);
    expect(isThrottled(s)).toBe(false);
  });

  test("a 429 without Retry-After halves the rate; successes raise it a tenth a second back to the target", () => {
    let s = afterResult(initialLimiter(cfg, 0), cfg, tooMany(null), 0);
    expect(s.perMs).toBeCloseTo(0.005);
    expect(s.why).toMatch(/rate halved/);
    s = afterResult(s, cfg, ok, 500); // within a step: unchanged
    expect(s.perMs).toBeCloseTo(0.005);
    const rates: number[] = [];
    for (let t = 1_000; t <= 6_000; t += 1_000) {
      s = afterResult(s, cfg, ok, t);
      rates.push(Math.round((s.perMs ?? 0) * 1_000_000) / 1_000);
    }
    expect(rates).toEqual([6, 7, 8, 9, 10, 10]);
    expect(isThrottled(s)).toBe(false);
  });

  test("halving never goes below one a minute; an unlimited route starts from its estimated rate", () => {
    let s = initialLimiter(cfg, 0);
    for (let i = 0; i < 40; i++) s = afterResult(s, cfg, tooMany(null), i);
    expect(s.perMs).toBe(FLOOR_PER_MS);
    const none: LimiterConfig = { ...cfg, limit: null };
    const u = afterResult(initialLimiter(none, 0), none, { ...tooMany(null), durationMs: 100 }, 0);
    expect(u.perMs).toBeCloseTo(4 / 100 / 2); // concurrency 4 per 100 ms, halved
    // Recovered, it is unlimited again.
    let r = u;
    for (let t = 1_000; t <= 20_000; t += 1_000) r = afterResult(r, none, ok, t);
    expect(r).toMatchObject({ perMs: null, why: null });
  });
});
