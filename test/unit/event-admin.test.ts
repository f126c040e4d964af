import { describe, expect } from "vitest";
import { createSqliteEventReads } from "../../src/admin/event-reads.js";
import { createEventAdmin } from "../../src/admin/events-service.js";
import { createIdFactory } from "../../src/ids.js";
import { createQueueCounts, createStore, createWriter, type OpenedDatabase } from "../../src/store/index.js";
import { createSqliteCommands } from "../../src/store/sqlite-commands.js";
import { newEvent } from "../helpers/events.js";
import { test } from "../helpers/harness.js";

const NOW = 1_700_000_000_000;

/** Store, writer and service over a real database; the deliverer only records wake-ups. */
function setup(opened: OpenedDatabase) {
  const store = createStore(opened.db);
  const batches: number[] = [];
  const writer = createWriter({ db: opened.db, onCommit: (n) => batches.push(n) });
  let wakes = 0;
  const leased = new Set<number>();
  const deliverer = {
    wake: () => void wakes++,
    setGate: async () => null,
    route: () => null,
    isLeased: (seq: number) => leased.has(seq),
    leasedSeqs: () => [...leased],
  };
  const insert = (id: string, orderKey: string | null = null) =>
    store.events.insert(
      newEvent({ id, route: "r", receivedAt: NOW - 60_000, body: Buffer.from("xy"), orderKey }),
    );
  const finish = (seq: number, status: "dead" | "delivered", orderKey: string | null = null) =>
    store.events.update(
      {
        seq,
        status,
        attempts: 1,
        nextAttemptAt: NOW - 1000,
        lastReason: status === "dead" ? "error_status_code" : null,
        lastDetail: status === "dead" ? "500" : null,
        lastStatus: status === "dead" ? 500 : 200,
        deliveredAt: status === "delivered" ? NOW - 1000 : null,
        finishedAt: NOW - 1000,
      },
      orderKey,
      "r",
    );
  const gauges = () => createQueueCounts({ initial: store.events.countByStatus(), writer });
  const row = (id: string) =>
    opened.db
      .prepare(
        "SELECT status, blocked, attempts, schedule_base, schedule_start, next_attempt_at FROM events WHERE id = ?",
      )
      .get(id) as {
      status: string;
      blocked: number;
      attempts: number;
      schedule_base: number;
      next_attempt_at: number;
    };
  const service = (g: ReturnType<typeof gauges>) =>
    createEventAdmin({
      reads: createSqliteEventReads(store, deliverer),
      commands: createSqliteCommands({ store, writer, clock: { now: () => NOW }, ids: createIdFactory() }),
      queue: (route: string) => g.get(route),
      deliverer,
      clock: { now: () => NOW },
      routeNames: ["r"],
      redeliverMax: 10_000,
    });
  return { store, writer, batches, insert, finish, gauges, row, service, leased, wakes: () => wakes };
}

const NO_FILTER = { status: null, route: null, reason: null, since: null, until: null };

describe("event admin service over SQLite", () => {
  test("bulk redelivery walks 1,201 dead events in chunks of 500, each once, restarting their schedules", async ({
    start,
  }) => {
    const opened = start.database();
    const t = setup(opened);
    opened.db.transaction(() => {
      for (let i = 0; i < 1201; i++) t.finish(t.insert(`e${i}`), "dead");
      t.finish(t.insert("ok"), "delivered");
    })();
    const g = t.gauges();
    const result = await t.service(g).redeliverMatching({
      filter: { ...NO_FILTER, status: "dead" },
      dryRun: false,
      requestId: null,
      sample: 0,
    });
    expect(result).toMatchObject({ result: "done", count: 1201, skipped: 0 });
    expect(t.batches).toEqual([1, 1, 1]);
    expect(t.wakes()).toBe(3);
    expect(g.get("r")).toMatchObject({ pending: 1201, dead: 0, delivered: 1, openBytes: 2402 });
    expect(t.row("e600")).toMatchObject({
      status: "pending",
      blocked: 0,
      attempts: 1,
      schedule_base: 1,
      next_attempt_at: NOW,
    });
    expect(t.row("ok")).toMatchObject({ status: "delivered" });
  });

  test("a redelivered ordered event waits behind an open event of its key and goes when that one finishes", async ({
    start,
  }) => {
    const opened = start.database();
    const t = setup(opened);
    const a = t.insert("a", "k");
    t.finish(a, "dead", "k");
    const b = t.insert("b", "k");
    expect(t.row("b").blocked).toBe(0);
    expect(await t.service(t.gauges()).redeliver("a")).toBe("ok");
    expect(t.row("a")).toMatchObject({ status: "pending", blocked: 1 });
    t.finish(b, "delivered", "k");
    expect(t.row("a").blocked).toBe(0);
    expect(t.store.events.claimDue("r", NOW, 10, []).map((e) => e.id)).toEqual(["a"]);
  });

  test("discarding a queued event leaves the head alone; discarding the head lets the next one go", async ({
    start,
  }) => {
    const opened = start.database();
    const t = setup(opened);
    for (const id of ["a", "b", "c"]) t.insert(id, "k");
    t.store.attempts.insert({
      eventId: "a",
      n: 1,
      startedAt: NOW,
      durationMs: 5,
      outcome: "failed",
      reason: "error_status_code",
      detail: "500",
      statusCode: 500,
      error: null,
      responseBody: null,
      responseSize: null,
    });
    const g = t.gauges();
    const admin = t.service(g);
    expect([t.row("a").blocked, t.row("b").blocked, t.row("c").blocked]).toEqual([0, 1, 1]);
    expect(await admin.discard("b")).toBe("ok");
    expect([t.row("a").blocked, t.row("c").blocked]).toEqual([0, 1]);
    expect(await admin.discard("a")).toBe("ok");
    expect(t.row("c").blocked).toBe(0);
    expect(t.store.attempts.forEvent("a")).toEqual([]);
    expect(g.get("r")).toMatchObject({ pending: 1, openBytes: 2 });
    expect(await admin.discard("a")).toBe("not_found");
  });

  test("an event leased by the deliverer is neither redelivered nor discarded, and lists as delivering", async ({
    start,
  }) => {
    const opened = start.database();
    const t = setup(opened);
    const seq = t.insert("a");
    t.leased.add(seq);
    const admin = t.service(t.gauges());
    expect(await admin.redeliver("a")).toBe("delivering");
    expect(await admin.discard("a")).toBe("delivering");
    expect((await admin.list(NO_FILTER, null, 10)).events.map((e) => e.status)).toEqual(["delivering"]);
    t.leased.delete(seq);
    expect((await admin.list(NO_FILTER, null, 10)).events.map((e) => e.status)).toEqual(["pending"]);
  });
});
