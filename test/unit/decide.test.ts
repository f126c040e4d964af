import { describe, expect, test } from "vitest";
import type { RetryPolicy } from "../../src/config/types.js";
import { decide } from "../../src/deliver/decide.js";
import type { AttemptResult, DueEvent } from "../../src/model.js";
import type { EventUpdate } from "../../src/store/index.js";

// One situation per row: the event before the attempt, the attempt's result, the route's retry
// policy and permanent statuses, the jitter draw, and what decide() makes of it.

const RECEIVED = 1_000_000;
const STARTED = RECEIVED + 60_000;
const DURATION = 250;
const NOW = STARTED + DURATION;

const schedule = (delaysMs: number[], extra: Partial<RetryPolicy> = {}): RetryPolicy =>
  ({ kind: "schedule", delaysMs, maxDelayMs: 3_600_000, maxAgeMs: null, ...extra }) as RetryPolicy;
const exponential = (extra: Partial<Extract<RetryPolicy, { kind: "exponential" }>> = {}): RetryPolicy => ({
  kind: "exponential",
  baseMs: 1_000,
  factor: 2,
  maxDelayMs: 60_000,
  maxAttempts: 4,
  jitter: 0.5,
  maxAgeMs: null,
  ...extra,
});

const event = (over: Partial<DueEvent> = {}): DueEvent => ({
  seq: 42,
  id: "01EVENT",
  route: "default",
  receivedAt: RECEIVED,
  method: "POST",
  path: "/hook",
  query: "",
  headers: [],
  body: Buffer.from("{}"),
  attempts: 0,
  scheduleBase: 0,
  scheduleStart: RECEIVED,
  orderKey: null,
  nextAttemptAt: STARTED,
  size: 2,
  ...over,
});

const delivered = (statusCode = 200): AttemptResult => ({
  ok: true,
  startedAt: STARTED,
  durationMs: DURATION,
  statusCode,
  failure: null,
  retryAfterMs: null,
  aborted: false,
  error: null,
});
const status = (code: number, retryAfterMs: number | null = null): AttemptResult => ({
  ok: false,
  startedAt: STARTED,
  durationMs: DURATION,
  statusCode: code,
  failure: { reason: "error_status_code", detail: String(code) },
  retryAfterMs,
  aborted: false,
  error: null,
});
const refused: AttemptResult = {
  ok: false,
  startedAt: STARTED,
  durationMs: DURATION,
  statusCode: null,
  failure: { reason: "could_not_connect", detail: "Connection failed" },
  retryAfterMs: null,
  aborted: false,
  error: "ECONNREFUSED",
};

interface Row {
  situation: string;
  event?: Partial<DueEvent>;
  result: AttemptResult;
  retry?: RetryPolicy;
  permanent?: number[];
  random?: number;
  expected: Partial<EventUpdate>;
}

const failedAt = (code: number): Partial<EventUpdate> => ({
  lastReason: "error_status_code",
  lastDetail: String(code),
  lastStatus: code,
});
const dead = { status: "dead", nextAttemptAt: NOW, deliveredAt: null, finishedAt: NOW } as const;
const pendingAt = (at: number) =>
  ({ status: "pending", nextAttemptAt: at, deliveredAt: null, finishedAt: null }) as const;

const ROWS: Row[] = [
  {
    situation: "a 2xx delivers, finished when the attempt ended",
    result: delivered(),
    expected: {
      status: "delivered",
      attempts: 1,
      nextAttemptAt: NOW,
      deliveredAt: NOW,
      finishedAt: NOW,
      lastReason: null,
      lastDetail: null,
      lastStatus: 200,
    },
  },
  {
    situation: "a 2xx delivers even when its code is listed as permanent",
    result: delivered(204),
    permanent: [204],
    expected: { status: "delivered", lastStatus: 204 },
  },
  {
    situation: "a permanent status is dead at once, with retries left",
    result: status(410),
    retry: schedule([0, 1_000, 1_000]),
    permanent: [400, 410],
    expected: { ...dead, attempts: 1, ...failedAt(410) },
  },
  {
    situation: "a status not listed as permanent is retried on the schedule",
    result: status(500),
    retry: schedule([0, 1_000, 5_000]),
    permanent: [400, 410],
    expected: { ...pendingAt(NOW + 1_000), attempts: 1, ...failedAt(500) },
  },
  {
    situation: "a failure without a response (refused) is retried, its reason kept",
    result: refused,
    retry: schedule([0, 1_000]),
    permanent: [400],
    expected: {
      ...pendingAt(NOW + 1_000),
      lastReason: "could_not_connect",
      lastDetail: "Connection failed",
      lastStatus: null,
    },
  },
  {
    situation: "the schedule's next step follows the attempts already made",
    event: { attempts: 2 },
    result: status(503),
    retry: schedule([0, 1_000, 5_000, 30_000]),
    expected: { ...pendingAt(NOW + 30_000), attempts: 3 },
  },
  {
    situation: "an exhausted schedule is dead",
    event: { attempts: 2 },
    result: status(503),
    retry: schedule([0, 1_000, 5_000]),
    expected: { ...dead, attempts: 3, ...failedAt(503) },
  },
  {
    situation: "a redelivered event starts its schedule again from scheduleBase",
    event: { attempts: 5, scheduleBase: 5, scheduleStart: STARTED },
    result: status(503),
    retry: schedule([0, 1_000, 5_000]),
    expected: { ...pendingAt(NOW + 1_000), attempts: 6 },
  },
  {
    situation: "a Retry-After longer than the step is waited for",
    result: status(429, 20_000),
    retry: schedule([0, 1_000]),
    expected: pendingAt(NOW + 20_000),
  },
  {
    situation: "a Retry-After beyond max_delay waits max_delay",
    result: status(503, 3_600_000),
    retry: schedule([0, 1_000], { maxDelayMs: 10_000 }),
    expected: pendingAt(NOW + 10_000),
  },
  {
    situation: "a Retry-After shorter than the step keeps the step",
    result: status(503, 500),
    retry: schedule([0, 5_000]),
    expected: pendingAt(NOW + 5_000),
  },
  {
    situation: "a retry that would fall past max_age is dead",
    result: status(500),
    retry: schedule([0, 10_000], { maxAgeMs: 65_000 }),
    expected: { ...dead, ...failedAt(500) },
  },
  {
    situation: "max_age counts from scheduleStart, so a redelivered event gets its time again",
    event: { attempts: 3, scheduleBase: 3, scheduleStart: STARTED },
    result: status(500),
    retry: schedule([0, 10_000], { maxAgeMs: 65_000 }),
    expected: pendingAt(NOW + 10_000),
  },
  {
    situation: "exponential: the first failure waits base, jitter at its midpoint",
    result: status(500),
    retry: exponential(),
    random: 0.5,
    expected: pendingAt(NOW + 1_000),
  },
  {
    situation: "exponential: the jitter draw moves the delay within +-jitter",
    event: { attempts: 2 },
    result: status(500),
    retry: exponential(),
    random: 0,
    expected: pendingAt(NOW + 2_000), // 4 s, less 50 %
  },
  {
    situation: "exponential: max_attempts reached is dead",
    event: { attempts: 3 },
    result: status(500),
    retry: exponential(),
    random: 0.5,
    expected: { ...dead, attempts: 4 },
  },
];

describe("decide()", () => {
  test.each(ROWS)("$situation", (row) => {
    const update = decide(
      event(row.event),
      row.result,
      { retry: row.retry ?? schedule([0, 1_000]), permanentStatuses: row.permanent ?? [] },
      row.random ?? 0.5,
    );
    expect(update).toMatchObject({ seq: 42, ...row.expected });
  });

  test("every field of the update is set, and only those", () => {
    const update = decide(event(), status(500), { retry: schedule([0, 1_000]), permanentStatuses: [] }, 0.5);
    expect(Object.keys(update).sort()).toEqual(
      [
        "seq",
        "status",
        "attempts",
        "nextAttemptAt",
        "lastReason",
        "lastDetail",
        "lastStatus",
        "deliveredAt",
        "finishedAt",
      ].sort(),
    );
  });
});
