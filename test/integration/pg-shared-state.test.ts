import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import { createPgEventQueries } from "../../src/store/postgres/events.js";
import { createPgGateQueries, type SharedBreakerPolicy } from "../../src/store/postgres/gates.js";
import { listenForEvents } from "../../src/store/postgres/listen.js";
import { migratePostgres } from "../../src/store/postgres/migrations.js";
import { createPostgresPool } from "../../src/store/postgres/pool.js";
import { createPgStatQueries } from "../../src/store/postgres/stats.js";
import { newPgEvent } from "../helpers/events.js";
import { createTestSchema, findTestPostgres, usePostgresReplicas } from "../helpers/postgres.js";

const server = await findTestPostgres();
const { replica, target } = usePostgresReplicas(server);

// Cooldowns long enough that a stalled test process on a busy machine does not outlive them.
const policy: SharedBreakerPolicy = { failures: 5, cooldownMs: 1_000, maxCooldownMs: 5_000 };

async function waitFor(check: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await sleep(10);
  }
}

describe.skipIf(server.url === null)(`PostgreSQL shared state (${server.skip ?? "real server"})`, () => {
  test("failures counted from three replicas add up, and exactly one of them opens the route", async () => {
    const replicas = await Promise.all([1, 2, 3].map(async () => createPgGateQueries(await replica())));
    const results = await Promise.all(
      replicas.flatMap((r, i) =>
        Array.from({ length: 10 }, () =>
          r.countAttempt("shared", i === 0 ? "5xx" : "timeout", false, policy),
        ),
      ),
    );
    expect(Math.max(...results.map((r) => r.consecutiveFailures))).toBe(30);
    expect(results.map((r) => r.consecutiveFailures).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    expect(results.filter((r) => r.opened)).toHaveLength(1);
    expect(results.find((r) => r.opened)?.consecutiveFailures).toBe(5);
    const last = results.find((r) => r.consecutiveFailures === 30);
    expect(last).toMatchObject({ state: "open", cooldownMs: 1_000 });
    expect(last?.recentFailures).toHaveLength(5);
  });

  test("5 failures spread over 3 replicas open the route; a success anywhere resets the count", async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(async () => createPgGateQueries(await replica())));
    if (!a || !b || !c) throw new Error("replicas");
    await a.countAttempt("spread", "5xx", false, policy);
    await b.countAttempt("spread", "5xx", false, policy);
    await c.countAttempt("spread", "5xx", false, policy);
    expect(await a.countAttempt("spread", null, false, policy)).toMatchObject({ consecutiveFailures: 0 });
    const counts = [];
    for (const r of [b, c, a, b, c]) counts.push(await r.countAttempt("spread", "4xx", false, policy));
    expect(counts.map((r) => [r.consecutiveFailures, r.state, r.opened])).toEqual([
      [1, "active", false],
      [2, "active", false],
      [3, "active", false],
      [4, "active", false],
      [5, "open", true],
    ]);
    expect(counts[4]?.recentFailures).toEqual(["4xx", "4xx", "4xx", "4xx", "4xx"]);
  });

  test("one half-open probe cluster-wide: a failed probe doubles the cooldown, a good one closes the route", async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(async () => createPgGateQueries(await replica())));
    if (!a || !b || !c) throw new Error("replicas");
    for (let i = 0; i < 5; i++) await a.countAttempt("probe", "other", false, policy);
    expect(await b.takeProbe("probe", "b", 5_000)).toBe(false); // cooling down
    await sleep(1_100);
    const takers = await Promise.all([a, b, c].map((r, i) => r.takeProbe("probe", `r${i}`, 5_000)));
    expect(takers.filter(Boolean)).toHaveLength(1);
    const failed = await c.countAttempt("probe", "other", true, policy);
    expect(failed).toMatchObject({ state: "open", cooldownMs: 2_000, opened: false });
    expect(await a.takeProbe("probe", "a", 5_000)).toBe(false);
    await sleep(2_100);
    expect(await a.takeProbe("probe", "a", 5_000)).toBe(true);
    const ok = await a.countAttempt("probe", null, true, policy);
    expect(ok).toMatchObject({ state: "active", consecutiveFailures: 0, cooldownMs: null, closed: true });
  });

  test("a probe lease whose replica died runs out and another replica may probe", async () => {
    const [a, b] = await Promise.all([1, 2].map(async () => createPgGateQueries(await replica())));
    if (!a || !b) throw new Error("replicas");
    for (let i = 0; i < 5; i++) await a.countAttempt("dead-prober", "other", false, policy);
    await sleep(1_100);
    expect(await a.takeProbe("dead-prober", "a", 1_500)).toBe(true);
    expect(await b.takeProbe("dead-prober", "b", 1_500)).toBe(false);
    await sleep(1_700);
    expect(await b.takeProbe("dead-prober", "b", 1_500)).toBe(true);
  });

  test("minute counters from three replicas at once add up in the minute and the hour", async () => {
    const replicas = await Promise.all([1, 2, 3].map(async () => createPgStatQueries(await replica())));
    const at = 1_700_000_040_000; // second 40 of a minute
    await Promise.all(
      replicas.flatMap((r) =>
        Array.from({ length: 20 }, (_, i) =>
          r.add([
            { at: at + i, route: "line", metric: "received", detail: "", n: 1 },
            { at: at + i, route: "line", metric: "received", detail: "", n: 1 },
            {
              at: at + 60_000,
              route: "line",
              metric: "could_not_connect",
              detail: "Connection failed",
              n: 3,
            },
          ]),
        ),
      ),
    );
    const minute = at - (at % 60_000);
    expect(await replicas[0]?.minutes(minute, minute + 120_000)).toEqual([
      { at: minute, route: "line", metric: "received", detail: "", count: 120 },
      {
        at: minute + 60_000,
        route: "line",
        metric: "could_not_connect",
        detail: "Connection failed",
        count: 180,
      },
    ]);
    const hour = await (await replica()).query("SELECT metric, count FROM stats_hour ORDER BY metric");
    expect(hour.rows).toEqual([
      { metric: "could_not_connect", count: 180 },
      { metric: "received", count: 120 },
    ]);
  });

  test("a stored batch wakes a listening replica with its route, and the listener survives a dropped connection", async () => {
    const name = `hb-listen-${process.pid}-${Date.now()}`;
    const woken: Array<string | null> = [];
    const errors: Error[] = [];
    const listener = await listenForEvents(
      { ...target(), applicationName: name },
      { onWake: (r) => woken.push(r), onError: (e) => errors.push(e), retryMs: 50 },
    );
    try {
      const pool = await replica();
      const q = createPgEventQueries(pool);
      const ev = (id: string, route: string) => newPgEvent({ id, route, body: Buffer.from(id) });
      const route = `listen-${process.pid}`;
      await q.insertBatch([ev(`${name}-1`, route), ev(`${name}-2`, route), ev(`${name}-3`, `${route}-b`)], 0);
      await waitFor(() => woken.includes(route) && woken.includes(`${route}-b`));
      // One notification per route and commit, however many events it stored.
      expect(woken.filter((r) => r === route)).toHaveLength(1);

      // The server drops the LISTEN connection: the listener reconnects, says anything may wait,
      // and hears later batches again.
      await pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [
        name,
      ]);
      await waitFor(() => woken.includes(null));
      expect(errors.length).toBeGreaterThan(0);
      await q.insertBatch([ev(`${name}-4`, `${route}-c`)], 0);
      await waitFor(() => woken.includes(`${route}-c`));
    } finally {
      await listener.close();
    }
  });

  test("the wake-up channel is the schema's own: a store in another schema of the database wakes nobody here", async () => {
    const woken: Array<string | null> = [];
    const listener = await listenForEvents(target(), { onWake: (r) => woken.push(r) });
    const other = await createTestSchema(server.url as string);
    const otherPool = await createPostgresPool({ url: server.url as string, schema: other.name });
    try {
      await migratePostgres(otherPool);
      await createPgEventQueries(otherPool).insertBatch(
        [newPgEvent({ id: `other-${Date.now()}`, route: "elsewhere" })],
        0,
      );
      const ours = await replica();
      await createPgEventQueries(ours).insertBatch(
        [newPgEvent({ id: `ours-${Date.now()}`, route: "here" })],
        0,
      );
      await waitFor(() => woken.includes("here"));
      expect(woken).not.toContain("elsewhere");
    } finally {
      await listener.close();
      await otherPool.end();
      await other.drop();
    }
  });
});
