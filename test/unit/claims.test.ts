// claims.ts against a real SQLite file: what each claim returns, what stays leased, and that every
// way an event becomes claimable again (released, retried at once, unblocked, rescanned) is seen
// by the next claim although it sorts behind the cursor.
import { describe, expect } from "vitest";
import { createClaims, type RouteQueue, routeQueue } from "../../src/deliver/claims.js";
import type { DueEvent } from "../../src/model.js";
import { createStore, type EventUpdate } from "../../src/store/index.js";
import { type Start, test } from "../helpers/harness.js";

const T0 = 1_750_000_000_000;

/** A real store, claims on a clock the test moves, and a way to add events to route "r". */
function setup(start: Start) {
  const opened = start.database();
  const store = createStore(opened.db);
  const clock = { t: T0, now: () => clock.t };
  const claims = createClaims({ store, clock });
  let n = 0;
  const add = (options: { at?: number; route?: string; orderKey?: string | null } = {}) => {
    const id = `e${++n}`;
    store.events.insert({
      id,
      route: options.route ?? "r",
      receivedAt: T0,
      method: "POST",
      path: `/${id}`,
      query: "",
      headers: [],
      body: Buffer.from("{}"),
      dedupKey: null,
      orderKey: options.orderKey ?? null,
      nextAttemptAt: options.at ?? T0,
    });
    return id;
  };
  /** The deliverer's decision for an attempt, written as the outcome would write it. */
  const record = (event: DueEvent, status: EventUpdate["status"], nextAttemptAt: number) =>
    store.events.update(
      {
        seq: event.seq,
        status,
        attempts: event.attempts + 1,
        nextAttemptAt,
        lastReason: status === "delivered" ? null : "error_status_code",
        lastDetail: status === "delivered" ? null : "503",
        lastStatus: status === "delivered" ? 200 : 503,
        deliveredAt: status === "delivered" ? clock.now() : null,
        finishedAt: status === "pending" ? null : clock.now(),
      },
      event.orderKey,
      event.route,
    );
  const statusOf = (id: string) =>
    opened.db.prepare("SELECT status FROM events WHERE id = ?").pluck().get(id) as string;
  /** Pending again at T0, behind any cursor, the way an admin redelivery leaves it, claims not told. */
  const redeliverBehind = (id: string) =>
    opened.db.prepare("UPDATE events SET status = 'pending', next_attempt_at = ? WHERE id = ?").run(T0, id);
  const ids = (events: DueEvent[]) => events.map((e) => e.id);
  return { store, clock, claims, add, record, redeliverBehind, statusOf, ids };
}

describe("claims", () => {
  test("a claim leases due events in (due time, seq) order up to the limit; the rows stay pending", ({
    start,
  }) => {
    const { claims, add, clock, statusOf, ids } = setup(start);
    const a = add({ at: T0 - 10 });
    const b = add({ at: T0 - 20 });
    const c = add({ at: T0 });
    add({ at: T0 + 1_000 }); // not due yet
    const q = routeQueue("r");

    const first = claims.claim(q, 2);
    expect(ids(first)).toEqual([b, a]);
    expect(ids(q.buffer)).toEqual([b, a]);
    expect(q.drained).toBe(false);
    expect(first.every((e) => claims.isLeased(e.seq))).toBe(true);
    expect(claims.leased("r")).toBe(2);
    expect(statusOf(a)).toBe("pending");

    // Leased events are not claimed twice; a short claim marks the route drained.
    expect(ids(claims.claim(q, 10))).toEqual([c]);
    expect(q.drained).toBe(true);
    expect(ids(q.buffer)).toEqual([b, a, c]);
    expect(claims.claim(q, 10)).toEqual([]);

    clock.t = T0 + 1_000;
    expect(claims.claim(q, 10)).toHaveLength(1);
    expect(claims.leased("r")).toBe(4);
  });

  test("leases are counted per route; the other route's events are never claimed", ({ start }) => {
    const { claims, add, ids } = setup(start);
    const r1 = add();
    const s1 = add({ route: "s" });
    const s2 = add({ route: "s" });
    expect(ids(claims.claim(routeQueue("r"), 10))).toEqual([r1]);
    expect(ids(claims.claim(routeQueue("s"), 10))).toEqual([s1, s2]);
    expect([claims.leased("r"), claims.leased("s"), claims.leased(null)]).toEqual([1, 2, 3]);
    expect(claims.leasedSeqs()).toHaveLength(3);
  });

  test("released buffered events are claimed again, in order, although the cursor is past them", ({
    start,
  }) => {
    const { claims, add, ids } = setup(start);
    const all = [add(), add(), add(), add()];
    const q = routeQueue("r");
    claims.claim(q, 4);
    q.buffer.splice(0, 1); // the first one is being sent
    claims.releaseBuffer(q);
    expect(q.buffer).toEqual([]);
    expect(q.drained).toBe(false);
    expect(claims.leased("r")).toBe(1);
    expect(ids(claims.claim(q, 10))).toEqual(all.slice(1));
  });

  test("unleasing an event that holds no lease changes nothing", ({ start }) => {
    const { claims, add } = setup(start);
    add();
    const q = routeQueue("r");
    const [event] = claims.claim(q, 10) as [DueEvent];
    expect(q.drained).toBe(true);
    claims.unlease(q, event);
    expect(q.drained).toBe(false);
    expect(claims.isLeased(event.seq)).toBe(false);
    q.drained = true;
    claims.unlease(q, event);
    expect(q.drained).toBe(true);
  });

  test("a retry due at once sorts behind the cursor and is claimed again once settled", ({ start }) => {
    const { claims, add, record, clock, ids } = setup(start);
    const [a, b, c] = [add(), add(), add()];
    const q = routeQueue("r");
    const [first] = claims.claim(q, 10) as [DueEvent];
    expect(ids(q.buffer)).toEqual([a, b, c]);
    // Same millisecond as the cursor (seq c), lower seq: behind it.
    record(first, "pending", clock.now());
    claims.settled(q, first, "pending", clock.now());
    expect(claims.isLeased(first.seq)).toBe(false);
    expect(ids(claims.claim(q, 10))).toEqual([a]);
  });

  test("a delivered event ends its lease for good; nothing is claimed again", ({ start }) => {
    const { claims, add, record, clock, statusOf } = setup(start);
    const a = add();
    const q = routeQueue("r");
    const [event] = claims.claim(q, 10) as [DueEvent];
    record(event, "delivered", clock.now());
    claims.settled(q, event, "delivered", clock.now());
    expect(statusOf(a)).toBe("delivered");
    expect(claims.leased(null)).toBe(0);
    expect(claims.claim(q, 10)).toEqual([]);
    expect(claims.nextDueAt(q)).toBeNull();
  });

  test("a finished ordered event unblocks its successor, which is claimed though behind the cursor", ({
    start,
  }) => {
    const { claims, add, record, clock, ids } = setup(start);
    const x1 = add({ orderKey: "x" });
    const x2 = add({ orderKey: "x" }); // waits behind x1
    const y1 = add({ orderKey: "y" });
    const q = routeQueue("r");
    const claimed = claims.claim(q, 10);
    expect(ids(claimed)).toEqual([x1, y1]);
    expect(q.drained).toBe(true);
    const first = claimed[0] as DueEvent;
    record(first, "dead", clock.now());
    claims.settled(q, first, "dead", clock.now());
    expect(q.drained).toBe(false);
    expect(ids(claims.claim(q, 10))).toEqual([x2]);
  });

  test("a rescan finds what became due behind the cursor; so does the first claim after a minute", ({
    start,
  }) => {
    const { claims, add, record, redeliverBehind, clock, ids } = setup(start);
    const q = routeQueue("r");
    const a = add();
    const b = add({ at: T0 + 10 });
    clock.t = T0 + 10;
    const finish = (event: DueEvent) => {
      record(event, "delivered", clock.now());
      claims.settled(q, event, "delivered", clock.now());
    };
    const [first] = claims.claim(q, 10) as [DueEvent];
    expect(ids(q.buffer)).toEqual([a, b]);
    finish(first);
    redeliverBehind(a);
    expect(claims.claim(q, 10)).toEqual([]);
    claims.rescan(q);
    const [again] = claims.claim(q, 10) as [DueEvent];
    expect(again.id).toBe(a);

    finish(again);
    redeliverBehind(a);
    clock.t = T0 + 30_000;
    expect(claims.claim(q, 10)).toEqual([]); // the cursor holds for a while
    clock.t = T0 + 10 + 60_001;
    expect(ids(claims.claim(q, 10))).toEqual([a]);
  });

  test("a clock that steps back behind the cursor starts the claim from the beginning", ({ start }) => {
    const { claims, add, record, redeliverBehind, clock, ids } = setup(start);
    const q = routeQueue("r");
    const a = add({ at: T0 + 500 });
    clock.t = T0 + 500;
    const [event] = claims.claim(q, 10) as [DueEvent];
    record(event, "delivered", clock.now());
    claims.settled(q, event, "delivered", clock.now());
    redeliverBehind(a);
    expect(claims.claim(q, 10)).toEqual([]);
    clock.t = T0 + 100;
    expect(ids(claims.claim(q, 10))).toEqual([a]);
  });

  test("nextDueAt is the earliest unclaimed due time, leases left out", ({ start }) => {
    const { claims, add } = setup(start);
    const q: RouteQueue = routeQueue("r");
    expect(claims.nextDueAt(q)).toBeNull();
    add({ at: T0 - 5 });
    add({ at: T0 + 2_000 });
    add({ at: T0 + 9_000 });
    expect(claims.nextDueAt(q)).toBe(T0 - 5);
    claims.claim(q, 10);
    expect(claims.nextDueAt(q)).toBe(T0 + 2_000);
  });
});
