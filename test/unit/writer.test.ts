import { describe, expect } from "vitest";
import { activeGate } from "../../src/gate.js";
import { readCounters } from "../../src/stats/report.js";
import { type Committed, createStore, createWriter, openDatabase } from "../../src/store/index.js";
import { newEvent } from "../helpers/events.js";
import { test } from "../helpers/harness.js";

const insert = (store: ReturnType<typeof createStore>, id: string) =>
  store.events.insert(newEvent({ id, body: Buffer.from(id) }));

describe("group-commit writer", () => {
  test("ops queued in one event-loop turn commit in one batch, each resolved after it", async ({ start }) => {
    const opened = start.database("full");
    const batches: number[] = [];
    const writer = createWriter({ db: opened.db, onCommit: (n) => batches.push(n) });
    const store = createStore(opened.db);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => writer.run(() => insert(store, `e${i}`))),
    );
    expect(batches).toEqual([50]);
    expect(results).toHaveLength(50);
    expect(opened.db.prepare("SELECT COUNT(*) FROM events").pluck().get()).toBe(50);
  });

  test("a batch that fills up is flushed without waiting for the turn to end", async ({ start }) => {
    const opened = start.database("full");
    const batches: number[] = [];
    const writer = createWriter({ db: opened.db, maxBatch: 10, onCommit: (n) => batches.push(n) });
    const store = createStore(opened.db);
    await Promise.all(Array.from({ length: 25 }, (_, i) => writer.run(() => insert(store, `e${i}`))));
    expect(batches).toEqual([10, 10, 5]);
  });

  test("an op that throws fails alone; the rest of its batch commits", async ({ start }) => {
    const opened = start.database("full");
    const writer = createWriter({ db: opened.db });
    const store = createStore(opened.db);
    const outcomes = await Promise.allSettled([
      writer.run(() => insert(store, "a")),
      writer.run(() => insert(store, "a")), // duplicate id violates UNIQUE
      writer.run(() => insert(store, "b")),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(opened.db.prepare("SELECT id FROM events ORDER BY seq").pluck().all()).toEqual(["a", "b"]);
  });

  test("stat increments are merged per minute and key, and dropped with a failed op", async ({ start }) => {
    const opened = start.database("full");
    const writer = createWriter({ db: opened.db });
    const store = createStore(opened.db);
    await Promise.allSettled([
      writer.run((ctx) => ctx.count(60_000, "r", "received")),
      writer.run((ctx) => ctx.count(60_500, "r", "received", "", 2)),
      writer.run((ctx) => {
        ctx.count(61_000, "r", "received", "", 100);
        throw new Error("boom");
      }),
      writer.run((ctx) => ctx.count(120_000, "r", "received")),
    ]);
    const read = await readCounters(store.stats, { from: 0, to: 600_000, route: "r", bucketMs: 60_000 });
    expect(read.totals).toEqual([{ metric: "received", detail: "", count: 4 }]);
    expect(read.series).toEqual([
      { bucket: 60_000, metric: "received", count: 3 },
      { bucket: 120_000, metric: "received", count: 1 },
    ]);
  });

  test("after-commit effects run only for committed ops", async ({ start }) => {
    const opened = start.database("full");
    const writer = createWriter({ db: opened.db });
    const effects: string[] = [];
    await Promise.allSettled([
      writer.run((ctx) => ctx.afterCommit(() => effects.push("kept"))),
      writer.run((ctx) => {
        ctx.afterCommit(() => effects.push("dropped"));
        throw new Error("boom");
      }),
    ]);
    expect(effects).toEqual(["kept"]);
  });

  test("a gate set by an op chains through the batch in op order and is undone with an op that fails", async ({
    start,
  }) => {
    const opened = start.database("full");
    const writer = createWriter({ db: opened.db });
    const applied: number[] = [];
    writer.subscribe((c) => {
      for (const g of c.gates) applied.push(g.after.consecutiveFailures);
    });
    const seen: number[] = [];
    const bump = (fail: boolean) =>
      writer.run((ctx) => {
        const before = ctx.gate("r", activeGate());
        const after = { ...before, consecutiveFailures: before.consecutiveFailures + 1 };
        ctx.setGate("r", before, after, 0);
        seen.push(after.consecutiveFailures);
        if (fail) throw new Error("boom");
        return after.consecutiveFailures;
      });
    const outcomes = await Promise.allSettled([bump(false), bump(true), bump(false)]);
    // First pass 1, 2 (it throws: rolled back); the op-by-op replay starts over, undoing the failed 2.
    expect(seen).toEqual([1, 2, 1, 2, 2]);
    expect(outcomes.map((o) => (o.status === "fulfilled" ? o.value : "failed"))).toEqual([1, "failed", 2]);
    // Applied once per committed change, in commit order, and saved as the last one left it.
    expect(applied).toEqual([1, 2]);
    expect(createStore(opened.db).gates.all()).toMatchObject([{ route: "r", consecutiveFailures: 2 }]);
  });

  test("subscribers get the counts and queue moves of committed ops once, also from a replayed batch", async ({
    start,
  }) => {
    const opened = start.database("full");
    const writer = createWriter({ db: opened.db });
    const store = createStore(opened.db);
    const batches: Committed[] = [];
    writer.subscribe((c) => batches.push(c));
    const stored = (id: string) =>
      writer.run((ctx) => {
        ctx.count(60_000, "default", "received");
        ctx.moved("default", null, "pending", 1);
        insert(store, id); // recorded first: a failing insert must take its records with it
      });
    await Promise.allSettled([stored("a"), stored("a"), stored("b")]); // the second "a" violates UNIQUE
    expect(batches).toHaveLength(1);
    expect(batches[0]?.counts.map((c) => c.metric)).toEqual(["received", "received"]);
    expect(batches[0]?.moves).toEqual([
      { route: "default", from: null, to: "pending", bytes: 1, n: 1 },
      { route: "default", from: null, to: "pending", bytes: 1, n: 1 },
    ]);
    const read = await readCounters(store.stats, { from: 0, to: 600_000, route: null, bucketMs: 60_000 });
    expect(read.totals).toEqual([{ metric: "received", detail: "", count: 2 }]);
  });

  test("with a sync, callers resolve only after a sync that began after their commit", async ({ start }) => {
    const opened = start.database("full");
    const syncs: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
    const sync = () => new Promise<void>((resolve, reject) => syncs.push({ resolve, reject }));
    const writer = createWriter({ db: opened.db, sync });
    const store = createStore(opened.db);
    const done: string[] = [];
    const a = writer.run(() => insert(store, "a")).then(() => done.push("a"));
    await new Promise((r) => setImmediate(r)); // batch 1 committed, sync 1 started
    const b = writer.run(() => insert(store, "b")).then(() => done.push("b"));
    await new Promise((r) => setImmediate(r)); // batch 2 committed, sync 2 started alongside
    expect(opened.db.prepare("SELECT COUNT(*) FROM events").pluck().get()).toBe(2);
    expect(syncs).toHaveLength(2);
    expect(done).toEqual([]); // committed is not acknowledged
    syncs[1]?.resolve();
    await b;
    expect(done).toEqual(["b"]);
    syncs[0]?.resolve();
    await a;
    expect(done).toEqual(["b", "a"]);
    const c = writer.run(() => insert(store, "c"));
    await new Promise((r) => setImmediate(r));
    syncs[2]?.reject(new Error("EIO"));
    await expect(c).rejects.toThrow("EIO"); // committed but not known durable: no ack
  });

  test("a second process cannot open the same database", async ({ start }) => {
    const opened = start.database("full");
    const { DatabaseLockedError } = await import("../../src/store/index.js");
    expect(() => openDatabase({ path: opened.db.name, synchronous: "full" })).toThrow(DatabaseLockedError);
  });
});
