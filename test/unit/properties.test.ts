import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { classifyError } from "../../src/classify/classify.js";
import type { RetryPolicy } from "../../src/config/types.js";
import { formatDuration, parseDuration, parseSize } from "../../src/config/units.js";
import { honourRetryAfter, nextAttempt, scheduledDelay } from "../../src/deliver/backoff.js";
import { Details, Reasons } from "../../src/model.js";

type Exponential = Extract<RetryPolicy, { kind: "exponential" }>;

const exponential: fc.Arbitrary<Exponential> = fc.record({
  kind: fc.constant("exponential" as const),
  baseMs: fc.integer({ min: 1, max: 3_600_000 }),
  factor: fc.double({ min: 1, max: 10, noNaN: true }),
  maxDelayMs: fc.integer({ min: 1, max: 86_400_000 }),
  maxAttempts: fc.integer({ min: 1, max: 60 }),
  jitter: fc.double({ min: 0, max: 1, noNaN: true }),
  maxAgeMs: fc.constant(null),
});
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe("backoff maths (properties)", () => {
  test("an exponential delay stays within its jitter bounds and never exceeds max_delay", () => {
    fc.assert(
      fc.property(exponential, fc.integer({ min: 1, max: 80 }), unit, (policy, done, random) => {
        const delay = scheduledDelay(policy, done, random);
        if (done >= policy.maxAttempts) return delay === null;
        const raw = Math.min(policy.maxDelayMs, policy.baseMs * policy.factor ** (done - 1));
        expect(delay).not.toBeNull();
        expect(delay!).toBeGreaterThanOrEqual(Math.floor(raw * (1 - policy.jitter)) - 0.5);
        expect(delay!).toBeLessThanOrEqual(Math.min(raw * (1 + policy.jitter), policy.maxDelayMs) + 0.5);
        expect(delay!).toBeLessThanOrEqual(policy.maxDelayMs);
        expect(Number.isInteger(delay)).toBe(true);
        return true;
      }),
    );
  });

  test("without jitter delays never shrink from one attempt to the next, and stop at the cap", () => {
    fc.assert(
      fc.property(exponential, (policy) => {
        const p = { ...policy, jitter: 0 };
        let previous = 0;
        for (let done = 1; done < p.maxAttempts; done++) {
          const delay = scheduledDelay(p, done, 0.5)!;
          expect(delay).toBeGreaterThanOrEqual(previous);
          expect(delay).toBeLessThanOrEqual(p.maxDelayMs);
          previous = delay;
        }
        expect(scheduledDelay(p, p.maxAttempts, 0.5)).toBeNull();
      }),
    );
  });

  test("a Retry-After never shortens the schedule and never waits past max_delay unless the schedule does", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
        fc.integer({ min: 1, max: 2 ** 40 }),
        (delay, retryAfter, maxDelay) => {
          const wait = honourRetryAfter(delay, retryAfter, maxDelay);
          expect(wait).toBeGreaterThanOrEqual(delay);
          expect(wait).toBeLessThanOrEqual(Math.max(delay, maxDelay));
          if (retryAfter === null) expect(wait).toBe(delay);
          else expect(wait).toBe(Math.max(delay, Math.min(retryAfter, maxDelay)));
        },
      ),
    );
  });

  test("a retry is never scheduled in the past, and max_age is never overrun", () => {
    fc.assert(
      fc.property(
        exponential,
        fc.integer({ min: 1, max: 80 }),
        fc.option(fc.integer({ min: 0, max: 10 ** 10 })),
        fc.option(fc.integer({ min: 0, max: 10 ** 9 })),
        unit,
        (policy, done, retryAfterMs, maxAgeMs, random) => {
          const now = 1_700_000_000_000;
          const receivedAt = now - 1_000;
          const next = nextAttempt({
            policy: { ...policy, maxAgeMs },
            attemptsDone: done,
            receivedAt,
            now,
            retryAfterMs,
            random,
          });
          if (next.kind === "retry") {
            expect(next.at).toBeGreaterThanOrEqual(now);
            if (maxAgeMs !== null) expect(next.at - receivedAt).toBeLessThanOrEqual(maxAgeMs);
          }
        },
      ),
    );
  });
});

const SIZE_UNITS = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, kib: 1024, mib: 1024 ** 2 } as const;

describe("config units (properties)", () => {
  test("formatting a duration and parsing it back gives the same milliseconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 13 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  test("a duration written as parts (any case, spaces between) is the sum of its parts", () => {
    const part = fc.record({
      n: fc.integer({ min: 0, max: 10_000 }),
      unit: fc.constantFrom(["ms", 1], ["s", 1e3], ["m", 6e4], ["h", 36e5], ["d", 864e5], ["w", 6048e5]),
      upper: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), fc.boolean(), (parts, spaced) => {
        const text = parts
          .map((p) => `${p.n}${p.upper ? p.unit[0].toUpperCase() : p.unit[0]}`)
          .join(spaced ? " " : "");
        const expected = parts.reduce((sum, p) => sum + p.n * (p.unit[1] as number), 0);
        expect(parseDuration(text)).toBe(expected);
      }),
    );
  });

  test("a size with a unit is that many bytes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4096 }),
        fc.constantFrom(...(Object.keys(SIZE_UNITS) as Array<keyof typeof SIZE_UNITS>)),
        fc.constantFrom("", " "),
        (n, u, gap) => {
          expect(parseSize(`${n}${gap}${u.toUpperCase()}`)).toBe(n * SIZE_UNITS[u]);
        },
      ),
    );
  });

  test("anything else is a RangeError, never NaN, a negative or a silently wrong number", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        for (const parse of [parseDuration, parseSize]) {
          let value: number | undefined;
          try {
            value = parse(text);
          } catch (err) {
            expect(err).toBeInstanceOf(RangeError);
            continue;
          }
          expect(Number.isSafeInteger(value)).toBe(true);
          expect(value).toBeGreaterThanOrEqual(0);
          // Only digits, a dot, spaces and unit letters can ever parse.
          expect(text).toMatch(/^[\d.\sa-zA-Z]+$/);
        }
      }),
    );
  });

  test("garbage with a foreign character anywhere is rejected", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.constantFrom("s", "mb"),
        fc.constantFrom("$", "-", "/", "%", "_", "+", ",", "\u00b5", "x"),
        fc.boolean(),
        (n, u, junk, before) => {
          const text = before ? `${junk}${n}${u}` : `${n}${u}${junk}`;
          expect(() => (u === "s" ? parseDuration(text) : parseSize(text))).toThrow(RangeError);
        },
      ),
    );
  });
});

const CODES = [
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_INVALID_ARG",
  "ERR_INVALID_URL",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "ERR_HTTP2_STREAM_ERROR",
  "NGHTTP2_REFUSED_STREAM",
  "UND_ERR_DESTROYED",
  "HPE_INVALID_CONSTANT",
];

/** Thrown values as they come: errors with real codes and messages, wrapped in causes and aggregates. */
const thrown: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.anything(),
    fc.record(
      {
        code: fc.oneof(fc.constantFrom(...CODES), fc.string(), fc.integer()),
        message: fc.oneof(
          fc.string(),
          fc.constantFrom("other side closed", "GOAWAY", "Invalid URL protocol"),
        ),
        name: fc.oneof(fc.string(), fc.constantFrom("HTTPParserError", "AbortError", "TimeoutError")),
      },
      { requiredKeys: [] },
    ),
    fc
      .tuple(fc.constantFrom(...CODES), fc.string(), tie("value"))
      .map(([code, message, cause]) => Object.assign(new Error(message, { cause }), { code })),
    fc.array(tie("value"), { maxLength: 3 }).map((errors) => new AggregateError(errors, "aggregate")),
  ),
})).value;

const DETAILS = new Set<string>(Object.values(Details));

describe("classifier (properties)", () => {
  test("any thrown value maps to exactly one known reason and a known detail (or a status code)", () => {
    fc.assert(
      fc.property(thrown, fc.boolean(), (err, requestWritten) => {
        const c = classifyError(err, { requestWritten });
        expect(Object.keys(c).sort()).toEqual(["detail", "reason"]);
        expect(Object.hasOwn(Reasons, c.reason)).toBe(true);
        expect(DETAILS.has(c.detail) || /^\d{3}$/.test(c.detail)).toBe(true);
        // Pure: the same value classifies the same way twice.
        expect(classifyError(err, { requestWritten })).toEqual(c);
      }),
      { numRuns: 500 },
    );
  });

  test("a cyclic cause chain terminates", () => {
    fc.assert(
      fc.property(fc.constantFrom(...CODES), fc.integer({ min: 1, max: 5 }), (code, length) => {
        const errs = Array.from({ length }, () => Object.assign(new Error("loop"), { code }));
        errs.forEach((e, i) => {
          (e as { cause?: unknown }).cause = errs[(i + 1) % length];
        });
        expect(Object.hasOwn(Reasons, classifyError(errs[0], { requestWritten: true }).reason)).toBe(true);
      }),
    );
  });
});
