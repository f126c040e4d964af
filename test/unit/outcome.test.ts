// outcome.ts against a real SQLite file: what one attempt's outcome leaves behind, read back as an
// operator would see it (the event row, its attempt, the counters behind /stats, the queue counts).
import { describe, expect } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import type { RouteConfig } from "../../src/config/types.js";
import { decide } from "../../src/deliver/decide.js";
import { outcomeCounts, replayHeaderExtras } from "../../src/deliver/outcome.js";
import { activeGate } from "../../src/gate.js";
import { createIdFactory } from "../../src/ids.js";
import type { AttemptResult, DueEvent } from "../../src/model.js";
import { readCounters } from "../../src/stats/report.js";
import {
  createQueueCounts,
  createSqliteCommands,
  createStore,
  createWriter,
  type EventUpdate,
} from "../../src/store/index.js";
import { newEvent } from "../helpers/events.js";
import { type Start, test } from "../helpers/harness.js";

const T0 = 1_750_000_000_000;
const BODY = Buffer.from('{"n":1}');

const load = (yaml: string) => loadConfig({ env: {}, flags: { config: "c.yaml" }, readFile: () => yaml });
const ROUTE = load("upstream: http://127.0.0.1:9\ndelivery: {retry: {schedule: [0s, 10s]}}\n")
  .routes[0] as RouteConfig;

const attempt = (over: Partial<AttemptResult>): AttemptResult => ({
  ok: false,
  startedAt: T0 + 5_000,
  durationMs: 40,
  statusCode: null,
  failure: null,
  retryAfterMs: null,
  aborted: false,
  error: null,
  ...over,
});

/**
 * A store with one event per order key on the default route, each as a claim reads it (the id
 * only while it waits behind its key), and queue counts as hookbuffer keeps them: read from the
 * database once, then moved by the writer's commits.
 */
function setup(start: Start, orderKeys: Array<string | null> = [null]) {
  const opened = start.database();
  const store = createStore(opened.db);
  const writer = createWriter({ db: opened.db });
  let n = 0;
  const add = (orderKey: string | null): DueEvent => {
    const id = `e${++n}`;
    store.events.insert(
      newEvent({ id, route: ROUTE.name, receivedAt: T0, path: "/hook", body: BODY, orderKey }),
    );
    return store.events.claimDue(ROUTE.name, T0, 100, []).find((e) => e.id === id) ?? ({ id } as DueEvent);
  };
  const events = orderKeys.map(add);
  const queue = createQueueCounts({ initial: store.events.countByStatus(), writer });
  /** Decides and records one attempt's outcome, as the deliverer does; resolves with the response bytes the row now holds. */
  const write = (event: DueEvent, result: AttemptResult, route = ROUTE) => {
    const update: EventUpdate = decide(event, result, route, 0.5);
    const commands = createSqliteCommands({
      store,
      writer,
      clock: { now: () => T0 },
      ids: createIdFactory(),
    });
    return commands
      .execute({
        kind: "record-outcome",
        route: route.name,
        event,
        result,
        update,
        counts: outcomeCounts(event, result, update),
        gate: { committed: activeGate(), next: (g) => g },
      })
      .then(() => (row(event.id) as { response_bytes: number }).response_bytes);
  };
  const row = (id: string) =>
    opened.db
      .prepare(
        `SELECT status, attempts, next_attempt_at, last_reason, last_detail, last_status, delivered_at,
           finished_at, response_bytes FROM events WHERE id = ?`,
      )
      .get(id);
  const counters = async () =>
    (await readCounters(store.stats, { from: 0, to: T0 + 3_600_000, route: ROUTE.name, bucketMs: 60_000 }))
      .totals;
  return { store, writer, events, event: events[0] as DueEvent, queue, write, row, counters };
}

describe("writeOutcome", () => {
  test("a delivery: the row is delivered, the attempt kept with its response, counted with its lag", async ({
    start,
  }) => {
    const { store, event, queue, write, row, counters } = setup(start);
    const stored = await write(
      event,
      attempt({ ok: true, statusCode: 200, responseBody: Buffer.from("thanks"), responseSize: 6 }),
    );
    expect(stored).toBe(6);
    const at = T0 + 5_040;
    expect(row(event.id)).toEqual({
      status: "delivered",
      attempts: 1,
      next_attempt_at: at,
      last_reason: null,
      last_detail: null,
      last_status: 200,
      delivered_at: at,
      finished_at: at,
      response_bytes: 6,
    });
    expect(store.attempts.forEvent(event.id)).toEqual([
      {
        eventId: event.id,
        n: 1,
        startedAt: T0 + 5_000,
        durationMs: 40,
        outcome: "delivered",
        reason: null,
        detail: null,
        statusCode: 200,
        error: null,
        responseBody: Buffer.from("thanks"),
        responseSize: 6,
      },
    ]);
    expect(await counters()).toEqual(
      expect.arrayContaining([
        { metric: "attempt_ms", detail: "50", count: 1 },
        { metric: "delivered", detail: "", count: 1 },
        { metric: "lag_ms", detail: "10000", count: 1 },
      ]),
    );
    expect(await counters()).toHaveLength(3);
    // Pending -> delivered, the body and the kept response with it; nothing is open any more.
    expect(queue.get(ROUTE.name)).toMatchObject({ pending: 0, delivered: 1, openBytes: 0 });
    expect(queue.open()).toEqual({ events: 0, bytes: 0 });
  });

  test("a failure with retries left: pending at the next step, counted by reason and detail", async ({
    start,
  }) => {
    const { store, event, queue, write, row, counters } = setup(start);
    const stored = await write(
      event,
      attempt({
        statusCode: 503,
        failure: { reason: "error_status_code", detail: "503" },
        responseBody: Buffer.from("busy"),
        responseSize: 4,
      }),
    );
    expect(stored).toBe(4);
    expect(row(event.id)).toMatchObject({
      status: "pending",
      attempts: 1,
      next_attempt_at: T0 + 5_040 + 10_000,
      last_reason: "error_status_code",
      last_detail: "503",
      last_status: 503,
      delivered_at: null,
      finished_at: null,
      response_bytes: 4,
    });
    expect(store.attempts.forEvent(event.id)).toMatchObject([
      { n: 1, outcome: "failed", reason: "error_status_code", detail: "503", statusCode: 503 },
    ]);
    const totals = await counters();
    expect(totals).toContainEqual({ metric: "error_status_code", detail: "503", count: 1 });
    expect(totals.map((t) => t.metric)).not.toContain("dead");
    expect(totals.map((t) => t.metric)).not.toContain("delivered");
    // Still open: the stored response now counts toward storage.max_bytes with the body.
    expect(queue.get(ROUTE.name)).toMatchObject({ pending: 1, openBytes: BODY.length + 4 });
  });

  test("a failure without a response keeps no body and the error for the operator", async ({ start }) => {
    const { store, event, queue, write } = setup(start);
    const result = attempt({
      failure: { reason: "could_not_connect", detail: "Connection failed" },
      error: "connect ECONNREFUSED 127.0.0.1:9",
    });
    expect(await write(event, result)).toBe(0);
    expect(store.attempts.forEvent(event.id)).toMatchObject([
      { reason: "could_not_connect", statusCode: null, error: result.error, responseBody: null },
    ]);
    expect(queue.get(ROUTE.name)).toMatchObject({ pending: 1, openBytes: BODY.length });
  });

  test("the last allowed failure is dead: counted dead, out of the open queue, the next of its key let go", async ({
    start,
  }) => {
    const { store, events, queue, write, row, counters } = setup(start, ["k", "k"]);
    const [first, second] = events as [DueEvent, DueEvent]; // the second waits behind the first
    expect(store.events.claimDue(ROUTE.name, T0, 100, [first.seq])).toEqual([]);
    const last = { ...first, attempts: 1 }; // the schedule has two steps: this is the second
    await write(last, attempt({ statusCode: 500, failure: { reason: "error_status_code", detail: "500" } }));
    expect(row(first.id)).toMatchObject({ status: "dead", attempts: 2, finished_at: T0 + 5_040 });
    expect(store.attempts.forEvent(first.id)).toMatchObject([{ n: 2, outcome: "failed" }]);
    expect(await counters()).toContainEqual({ metric: "dead", detail: "", count: 1 });
    expect(queue.get(ROUTE.name)).toMatchObject({ pending: 1, dead: 1, openBytes: BODY.length });
    expect(store.events.claimDue(ROUTE.name, T0, 100, []).map((e) => e.id)).toEqual([second.id]);
  });

  test("everything goes through the command: when the command fails after it, nothing of the outcome remains", async ({
    start,
  }) => {
    const { store, writer, event, queue, row, counters } = setup(start);
    const result = attempt({ ok: true, statusCode: 200, responseBody: Buffer.from("ok"), responseSize: 2 });
    const update = decide(event, result, ROUTE, 0.5);
    const commands = createSqliteCommands({
      store,
      writer,
      clock: { now: () => T0 },
      ids: createIdFactory(),
    });
    await expect(
      commands.execute({
        kind: "record-outcome",
        route: ROUTE.name,
        event,
        result,
        update,
        counts: outcomeCounts(event, result, update),
        // The gate's step comes last in the command: failing there, it takes the rest with it.
        gate: {
          committed: activeGate(),
          next: () => {
            throw new Error("a later step of the same command");
          },
        },
      }),
    ).rejects.toThrow("a later step");
    expect(row(event.id)).toMatchObject({ status: "pending", attempts: 0, response_bytes: 0 });
    expect(store.attempts.forEvent(event.id)).toEqual([]);
    expect(await counters()).toEqual([]);
    expect(queue.get(ROUTE.name)).toMatchObject({ pending: 1, delivered: 0, openBytes: BODY.length });
  });
});

describe("replayHeaderExtras", () => {
  test("names the event, the attempt about to be made and when it was received", () => {
    const event = { id: "01ABC", attempts: 2, receivedAt: T0 } as DueEvent;
    expect(replayHeaderExtras(ROUTE, event)).toEqual([
      ["X-Hookbuffer-Event-Id", "01ABC"],
      ["X-Hookbuffer-Attempt", "3"],
      ["X-Hookbuffer-Received-At", new Date(T0).toISOString()],
    ]);
  });

  test("says which scheme verified the webhook on a verifying route", () => {
    const verified = load("upstream: http://127.0.0.1:9\nverify: {scheme: github, secret: s}\n").routes[0];
    const event = { id: "01ABC", attempts: 0, receivedAt: T0 } as DueEvent;
    expect(replayHeaderExtras(verified as RouteConfig, event).at(-1)).toEqual([
      "X-Hookbuffer-Verified",
      "github",
    ]);
  });
});
