import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { describe, expect, test } from "vitest";
import type { DueEvent } from "../../src/model.js";
import { createPgClaimQueries, type PgOutcome } from "../../src/store/postgres/claims.js";
import { createPgEventQueries, type PgNewEvent } from "../../src/store/postgres/events.js";
import { pgDelivered } from "../helpers/events.js";
import { findTestPostgres, usePostgresReplicas } from "../helpers/postgres.js";

/** Both sides of the events table, as one replica uses them. */
const queries = (p: pg.Pool) => ({ ...createPgEventQueries(p), ...createPgClaimQueries(p) });

const server = await findTestPostgres();
const { replica, target, track } = usePostgresReplicas(server);

let ids = 0;
function event(route: string, extra: Partial<PgNewEvent> = {}): PgNewEvent {
  const id = `ev-${process.pid}-${++ids}`;
  return {
    id,
    route,
    receivedAt: 1_000,
    method: "POST",
    path: "/hook",
    query: "?a=1",
    headers: [["content-type", "application/json"]],
    body: Buffer.from(JSON.stringify({ id })),
    dedupKey: null,
    orderKey: null,
    nextAttemptAt: 0,
    dedupExpiresAt: null,
    ...extra,
  };
}

const delivered = pgDelivered;

describe.skipIf(server.url === null)(`PostgreSQL events (${server.skip ?? "real server"})`, () => {
  test("a batch is stored in one statement, byte-exact, and a duplicate names the event that holds its key", async () => {
    const q = queries(await replica());
    const body = Buffer.from([0, 1, 2, 255, 0x5c, 0x22]);
    const first = event("batch", { body, dedupKey: "k1", dedupExpiresAt: 10_000 });
    const again = event("batch", { dedupKey: "k1", dedupExpiresAt: 10_000 });
    const plain = event("batch");
    const results = await q.insertBatch([first, again, plain], 5_000);
    expect(results[0]).toMatchObject({ kind: "stored", id: first.id });
    expect(results[1]).toEqual({ kind: "duplicate", id: first.id });
    expect(results[2]).toMatchObject({ kind: "stored", id: plain.id });
    // In a later batch, inside the window: a duplicate; after the window: stored again.
    expect(await q.insertBatch([event("batch", { dedupKey: "k1", dedupExpiresAt: 20_000 })], 9_999)).toEqual([
      { kind: "duplicate", id: first.id },
    ]);
    const late = event("batch", { dedupKey: "k1", dedupExpiresAt: 20_000 });
    expect(await q.insertBatch([late], 10_000)).toMatchObject([{ kind: "stored", id: late.id }]);
    // The same key on another route is another key.
    const other = event("batch-2", { dedupKey: "k1", dedupExpiresAt: 10_000 });
    expect(await q.insertBatch([other], 5_000)).toMatchObject([{ kind: "stored", id: other.id }]);

    const claimed = await q.claim("batch", "r1", 30_000, 10);
    expect(claimed.map((e) => e.id)).toEqual([first.id, plain.id, late.id]);
    expect(claimed[0]?.body.equals(body)).toBe(true);
    expect(claimed[0]).toMatchObject({ method: "POST", path: "/hook", query: "?a=1", attempts: 0 });
    expect(claimed[0]?.headers).toEqual([["content-type", "application/json"]]);
  });

  test("a write the database refuses or cannot take is an error, never a stored result", async () => {
    // A server that went read-only (a standby after a failover) refuses the INSERT.
    const readOnly = track(
      new pg.Pool({
        connectionString: server.url ?? "",
        options: `-c search_path=${target().schema} -c default_transaction_read_only=on`,
        max: 1,
      }),
    );
    await expect(queries(readOnly).insertBatch([event("refused")], 0)).rejects.toMatchObject({
      code: "25006",
    });
    // Nothing answers on the port.
    const gone = track(new pg.Pool({ connectionString: "postgres://postgres@127.0.0.1:1/x", max: 1 }));
    await expect(queries(gone).insertBatch([event("refused")], 0)).rejects.toThrow(/ECONNREFUSED/);
    const stored = await (await replica()).query("SELECT count(*) AS n FROM events WHERE route = 'refused'");
    expect(stored.rows[0].n).toBe(0);
  });

  test("the same dedup key through two replicas at once is stored once", async () => {
    const a = queries(await replica());
    const b = queries(await replica());
    for (let i = 0; i < 25; i++) {
      const key = `delivery-${i}`;
      const ea = event("dedup", { dedupKey: key, dedupExpiresAt: 1e12 });
      const eb = event("dedup", { dedupKey: key, dedupExpiresAt: 1e12 });
      // Each batch also carries another key, in the opposite order: no deadlock either.
      const [ra, rb] = await Promise.all([
        a.insertBatch([ea, event("dedup", { dedupKey: `x-${i}`, dedupExpiresAt: 1e12 })], 0),
        b.insertBatch([event("dedup", { dedupKey: `x-${i}`, dedupExpiresAt: 1e12 }), eb], 0),
      ]);
      const forKey = [ra?.[0], rb?.[1]];
      expect(forKey.filter((r) => r?.kind === "stored")).toHaveLength(1);
      const holder = forKey.find((r) => r?.kind === "stored")?.id;
      expect(forKey.find((r) => r?.kind === "duplicate")?.id).toBe(holder);
    }
    const pool = await replica();
    const stored = await pool.query(
      "SELECT dedup_key, count(*) AS n FROM events WHERE route = 'dedup' GROUP BY 1 HAVING count(*) > 1",
    );
    expect(stored.rows).toEqual([]);
  });

  test("two replicas claiming at once never get the same event", async () => {
    const writer = queries(await replica());
    const all = Array.from({ length: 1500 }, () => event("race"));
    for (let i = 0; i < all.length; i += 250) await writer.insertBatch(all.slice(i, i + 250), 0);
    const seen = new Map<string, string>();
    const doubles: string[] = [];
    // Each replica's pool connected before any starts, so they drain at the same time.
    const connected = async () => {
      const p = await replica();
      await p.query("SELECT 1");
      return queries(p);
    };
    const drain = async (name: string, q: ReturnType<typeof queries>) => {
      for (;;) {
        const got = await q.claim("race", name, 30_000, 16);
        if (got.length === 0) return;
        for (const e of got) {
          if (seen.has(e.id)) doubles.push(e.id);
          seen.set(e.id, name);
        }
        expect(await q.recordOutcomes(name, got.map(delivered))).toHaveLength(got.length);
      }
    };
    const [qa, qb, qc] = await Promise.all([connected(), connected(), connected()]);
    await Promise.all([drain("replica-a", qa), drain("replica-b", qb), drain("replica-c", qc)]);
    expect(doubles).toEqual([]);
    expect(seen.size).toBe(all.length);
    const owners = new Set(seen.values());
    expect(owners.size).toBeGreaterThan(1);
  });

  test("a lease that runs out is claimable again, and the first holder's late outcome is refused", async () => {
    const a = queries(await replica());
    const b = queries(await replica());
    const e = event("lease");
    await a.insertBatch([e], 0);
    const [held] = await a.claim("lease", "replica-a", 1_500, 10);
    expect(held?.id).toBe(e.id);
    expect(await b.claim("lease", "replica-b", 1_500, 10)).toEqual([]);
    await sleep(1_700);
    const [taken] = await b.claim("lease", "replica-b", 30_000, 10);
    expect(taken?.id).toBe(e.id);
    // replica-a comes back from a long pause: its outcome no longer counts.
    expect(await a.recordOutcomes("replica-a", [delivered(held as DueEvent)])).toEqual([]);
    expect(await b.recordOutcomes("replica-b", [delivered(taken as DueEvent)])).toEqual([taken?.seq]);
    expect(await a.claim("lease", "replica-a", 1_500, 10)).toEqual([]);
  });

  test("claims through an async-commit pool lease rows that the durable pool then settles", async () => {
    const durable = await replica();
    const leases = await replica({ max: 1, asyncCommit: true });
    expect((await leases.query("SHOW synchronous_commit")).rows[0].synchronous_commit).toBe("off");
    expect((await durable.query("SHOW synchronous_commit")).rows[0].synchronous_commit).toBe("on");
    const e = event("async-lease");
    await queries(durable).insertBatch([e], 0);
    const [got] = await queries(leases).claim("async-lease", "me", 30_000, 10);
    expect(got?.id).toBe(e.id);
    expect(await queries(durable).claim("async-lease", "other", 30_000, 10)).toEqual([]);
    expect(await queries(durable).recordOutcomes("me", [delivered(got as DueEvent)])).toEqual([got?.seq]);
  });

  test("a retry waits for its time and keeps its attempts; a dead event is never claimed again", async () => {
    const q = queries(await replica());
    const [r, d] = [event("retry"), event("retry")];
    await q.insertBatch([r, d], 0);
    const got = await q.claim("retry", "me", 30_000, 10);
    expect(got).toHaveLength(2);
    const soon = Date.now() + 1_500;
    const retry: PgOutcome = { ...delivered(got[0] as DueEvent), status: "pending", nextAttemptAt: soon };
    const dead: PgOutcome = { ...delivered(got[1] as DueEvent), status: "dead", deliveredAt: null };
    expect(await q.recordOutcomes("me", [retry, dead])).toHaveLength(2);
    expect(await q.claim("retry", "me", 30_000, 10)).toEqual([]);
    await sleep(1_700);
    const again = await q.claim("retry", "me", 30_000, 10);
    expect(again.map((e) => [e.id, e.attempts])).toEqual([[r.id, 1]]);
  });

  test("per-key order holds across two replicas: a key's next event waits until the one before it finished", async () => {
    const writer = queries(await replica());
    const keys = ["u1", "u2", "u3", "u4"];
    const all = Array.from({ length: 160 }, (_, i) =>
      event("order", { orderKey: keys[i % keys.length] ?? null }),
    );
    // A few unordered events too: they never wait.
    all.push(...Array.from({ length: 20 }, () => event("order")));
    await writer.insertBatch(all.slice(0, 90), 0);
    await writer.insertBatch(all.slice(90), 0);
    const position = new Map(all.map((e, i) => [e.id, i]));
    const inFlight = new Set<string>();
    const overlaps: string[] = [];
    const finished = new Map<string, number[]>();
    // Each replica's pool connected before any starts, so they drain at the same time.
    const connected = async () => {
      const p = await replica();
      await p.query("SELECT 1");
      return queries(p);
    };
    const drain = async (name: string, q: ReturnType<typeof queries>) => {
      let idle = 0;
      while (idle < 20) {
        const got = await q.claim("order", name, 30_000, 8);
        if (got.length === 0) {
          idle++;
          await sleep(5);
          continue;
        }
        idle = 0;
        for (const e of got) {
          if (e.orderKey === null) continue;
          if (inFlight.has(e.orderKey)) overlaps.push(`${e.orderKey}@${e.id}`);
          inFlight.add(e.orderKey);
        }
        await sleep(Math.random() * 4);
        for (const e of got) {
          if (e.orderKey === null) continue;
          inFlight.delete(e.orderKey);
          finished.set(e.orderKey, [...(finished.get(e.orderKey) ?? []), position.get(e.id) ?? -1]);
        }
        await q.recordOutcomes(name, got.map(delivered));
      }
    };
    const [qa, qb] = await Promise.all([connected(), connected()]);
    await Promise.all([drain("replica-a", qa), drain("replica-b", qb)]);
    expect(overlaps).toEqual([]);
    for (const k of keys) {
      const order = finished.get(k) ?? [];
      expect(order).toHaveLength(40);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
  });

  test("outcomes and the next claim in one statement: recorded, claimed, and a key's next event waits one claim", async () => {
    const q = queries(await replica());
    const [k1, k2, f1, f2] = [
      event("fold", { orderKey: "k" }),
      event("fold", { orderKey: "k" }),
      event("fold"),
      event("fold"),
    ];
    await q.insertBatch([k1, k2, f1, f2], 0);
    const first = await q.claim("fold", "me", 30_000, 2);
    expect(first.map((e) => e.id)).toEqual([k1.id, f1.id]);
    const next = await q.settleAndClaim("me", first.map(delivered), "fold", 30_000, 10);
    expect(next.settled.sort()).toEqual(first.map((e) => e.seq).sort());
    // k2's predecessor was still open in the statement's snapshot: it waits for the next claim.
    expect(next.claimed.map((e) => e.id)).toEqual([f2.id]);
    const last = await q.settleAndClaim("me", next.claimed.map(delivered), "fold", 30_000, 10);
    expect(last.claimed.map((e) => e.id)).toEqual([k2.id]);
    const done = await q.settleAndClaim("me", last.claimed.map(delivered), "fold", 30_000, 10);
    expect(done).toEqual({ settled: [last.claimed[0]?.seq], claimed: [] });
    expect(await q.settleAndClaim("me", [], "fold", 30_000, 10)).toEqual({ settled: [], claimed: [] });
  });

  test("two replicas draining with folded claims never get the same event", async () => {
    const writer = queries(await replica());
    const all = Array.from({ length: 600 }, () => event("fold-race"));
    for (let i = 0; i < all.length; i += 200) await writer.insertBatch(all.slice(i, i + 200), 0);
    const seen = new Set<string>();
    const doubles: string[] = [];
    let settled = 0;
    // Each replica's pool connected before any starts, so they drain at the same time.
    const connected = async () => {
      const p = await replica();
      await p.query("SELECT 1");
      return queries(p);
    };
    const drain = async (name: string, q: ReturnType<typeof queries>) => {
      let held: DueEvent[] = [];
      for (;;) {
        const r = await q.settleAndClaim(name, held.map(delivered), "fold-race", 30_000, 16);
        settled += r.settled.length;
        if (r.claimed.length === 0) return;
        for (const e of r.claimed) {
          if (seen.has(e.id)) doubles.push(e.id);
          seen.add(e.id);
        }
        held = r.claimed;
      }
    };
    const [qa, qb] = await Promise.all([connected(), connected()]);
    await Promise.all([drain("replica-a", qa), drain("replica-b", qb)]);
    expect(doubles).toEqual([]);
    expect(seen.size).toBe(all.length);
    expect(settled).toBe(all.length);
  });

  test("a key's later event stays unclaimable while the earlier one waits for a retry", async () => {
    const q = queries(await replica());
    const [e1, e2, free] = [
      event("held", { orderKey: "k" }),
      event("held", { orderKey: "k" }),
      event("held"),
    ];
    await q.insertBatch([e1, e2, free], 0);
    const got = await q.claim("held", "me", 30_000, 10);
    expect(got.map((e) => e.id)).toEqual([e1.id, free.id]);
    const first = got[0] as DueEvent;
    await q.recordOutcomes("me", [
      { ...delivered(first), status: "pending", nextAttemptAt: Date.now() + 60_000, deliveredAt: null },
    ]);
    expect(await q.claim("held", "other", 30_000, 10)).toEqual([]);
  });
});
