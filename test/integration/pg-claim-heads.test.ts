import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { describe, expect, test } from "vitest";
import type { DueEvent } from "../../src/model.js";
import { createPgClaimQueries } from "../../src/store/postgres/claims.js";
import { createPgEventQueries, type PgNewEvent } from "../../src/store/postgres/events.js";
import { newPgEvent, pgDelivered } from "../helpers/events.js";
import { findTestPostgres, usePostgresReplicas } from "../helpers/postgres.js";

// The ordered claim (docs/replicas.md): a key's events go one at a time, oldest first, whether the
// claim finds the key's head by walking the oldest due events or by probing each key.

const queries = (p: pg.Pool) => ({ ...createPgEventQueries(p), ...createPgClaimQueries(p) });

const server = await findTestPostgres();
const { replica } = usePostgresReplicas(server);

let ids = 0;
function event(route: string, orderKey: string | null, nextAttemptAt = 0): PgNewEvent {
  const id = `hd-${process.pid}-${++ids}`;
  return newPgEvent({
    id,
    route,
    receivedAt: 1_000,
    path: "/hook",
    body: Buffer.from(id),
    orderKey,
    nextAttemptAt,
  });
}

const delivered = pgDelivered;

const ids_ = (events: DueEvent[]) => events.map((e) => e.id);

describe.skipIf(server.url === null)(`PostgreSQL ordered claim (${server.skip ?? "real server"})`, () => {
  // Without a backlog the claim finds k's head by walking; behind 300 open events of one key (more
  // than the walk reads) it finds it by probing each key.
  test.each([
    ["near the front", 0],
    ["behind another key's backlog", 300],
  ])(
    "a key's second event is never claimed while the first is leased, even after its lease ran out and was taken over (%s)",
    async (_, backlog) => {
      const route = `lease-${backlog}`;
      const a = queries(await replica());
      const b = queries(await replica());
      const busy = Array.from({ length: backlog }, () => event(route, "busy"));
      const [k1, k2] = [event(route, "k"), event(route, "k")];
      await a.insertBatch([...busy, k1, k2], 0);
      const front = backlog > 0 ? await a.claim(route, "a", 30_000, 1) : [];
      expect(ids_(front)).toEqual(busy.slice(0, 1).map((e) => e.id));
      const held = await a.claim(route, "a", 1_500, 10);
      expect(ids_(held)).toEqual([k1.id]);
      expect(await b.claim(route, "b", 30_000, 10)).toEqual([]);
      await sleep(1_700);
      // k1's lease ran out: b takes k1 over, never k2.
      const taken = await b.claim(route, "b", 30_000, 10);
      expect(ids_(taken)).toEqual([k1.id]);
      expect(await a.claim(route, "a", 30_000, 10)).toEqual([]);
      expect(await b.claim(route, "b", 30_000, 10)).toEqual([]);
      // a's late outcome is refused, so k1 stays open and k2 waits.
      expect(await a.recordOutcomes("a", [delivered(held[0] as DueEvent)])).toEqual([]);
      expect(await a.claim(route, "a", 30_000, 10)).toEqual([]);
      // Folded with an outcome, a claim still sees k1 open in its snapshot.
      const folded = await b.settleAndClaim("b", taken.map(delivered), route, 30_000, 10);
      expect(folded).toEqual({ settled: [taken[0]?.seq], claimed: [] });
      expect(ids_(await a.claim(route, "a", 30_000, 10))).toEqual([k2.id]);
    },
  );

  test.each([
    ["heads scattered", 0],
    ["heads behind leased keys' backlogs", 30],
  ])("with many keys, a claim of N returns the N oldest due heads (%s)", async (_, backlog) => {
    const route = `many-${backlog}`;
    const pool = await replica();
    const q = queries(pool);
    // Ten keys with a backlog each, in front, their heads leased by another claimer.
    const front = Array.from({ length: backlog }, (_, i) =>
      Array.from({ length: 10 }, (_, k) => event(route, `front${k}`, i)),
    ).flat();
    if (front.length > 0) await q.insertBatch(front, 0);
    if (front.length > 0) expect(await q.claim(route, "other", 60_000, 10)).toHaveLength(10);
    // 300 keys of two events each, in a shuffled order, due at shuffled times, some not yet due;
    // a key's head (its first event) is not always its earliest due event.
    const now = Date.now();
    const rand = (n: number) => Math.floor(Math.random() * n);
    const keys = Array.from({ length: 300 }, (_, k) => `m${k}`);
    const many = [...keys, ...keys]
      .map((k) => ({ k, r: Math.random() }))
      .sort((x, y) => x.r - y.r)
      .map(({ k }) => event(route, k, rand(5) === 0 ? now + 600_000 : 1_000 + rand(1_000_000)));
    // A few unordered events, due among them.
    many.push(...Array.from({ length: 5 }, () => event(route, null, 1_000 + rand(1_000_000))));
    for (let i = 0; i < many.length; i += 200) await q.insertBatch(many.slice(i, i + 200), 0);
    const { rows } = await pool.query<{
      seq: string;
      id: string;
      order_key: string | null;
      next_attempt_at: string;
    }>(
      "SELECT seq, id, order_key, next_attempt_at FROM events WHERE route = $1 AND order_key NOT LIKE 'front%' OR route = $1 AND order_key IS NULL ORDER BY seq",
      [route],
    );
    const seen = new Set<string>();
    const claimable = rows
      .filter((r) => {
        if (r.order_key === null) return true;
        if (seen.has(r.order_key)) return false;
        seen.add(r.order_key);
        return true;
      })
      .filter((r) => Number(r.next_attempt_at) <= now)
      .sort((x, y) => Number(x.next_attempt_at) - Number(y.next_attempt_at) || Number(x.seq) - Number(y.seq))
      .map((r) => r.id);
    expect(claimable.length).toBeGreaterThan(100);
    const first = await q.claim(route, "me", 60_000, 40);
    expect(ids_(first)).toEqual(claimable.slice(0, 40));
    // The next claim continues where that one stopped: the claimed heads are leased.
    const next = await q.claim(route, "you", 60_000, 40);
    expect(ids_(next)).toEqual(claimable.slice(40, 80));
  });

  test("a route claimed without ordered events claims them from its next claim on, first k1, then k2", async () => {
    const q = queries(await replica());
    const [free, later] = [event("mixed", null), event("mixed", null)];
    await q.insertBatch([free], 0);
    expect(ids_(await q.claim("mixed", "me", 30_000, 10))).toEqual([free.id]);
    const [k1, k2] = [event("mixed", "k"), event("mixed", "k")];
    await q.insertBatch([k1, k2, later], 0);
    // The claim that finds the ordered events may leave them for the next one, never more.
    const first = await q.claim("mixed", "me", 30_000, 10);
    const second = await q.claim("mixed", "me", 30_000, 10);
    expect([...ids_(first), ...ids_(second)].sort()).toEqual([k1.id, later.id].sort());
    await q.recordOutcomes("me", [...first, ...second].map(delivered));
    expect(ids_(await q.claim("mixed", "me", 30_000, 10))).toEqual([k2.id]);
  });
});
