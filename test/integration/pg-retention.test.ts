import pg from "pg";
import { beforeAll, describe, expect, test } from "vitest";
import type { DueEvent } from "../../src/model.js";
import { createPgAttemptQueries } from "../../src/store/postgres/attempts.js";
import { createPgClaimQueries } from "../../src/store/postgres/claims.js";
import { createPgEventQueries, type PgNewEvent } from "../../src/store/postgres/events.js";
import { createPgRetentionQueries } from "../../src/store/postgres/retention.js";
import { createPgStatQueries } from "../../src/store/postgres/stats.js";
import { newPgEvent } from "../helpers/events.js";
import { findTestPostgres, usePostgresReplicas } from "../helpers/postgres.js";

/** Both sides of the events table, as one replica uses them. */
const queries = (p: pg.Pool) => ({ ...createPgEventQueries(p), ...createPgClaimQueries(p) });

const server = await findTestPostgres();
const replicas = usePostgresReplicas(server);
let pool: pg.Pool;
beforeAll(async () => {
  if (server.url !== null) pool = await replicas.replica();
});

let ids = 0;
const event = (route: string, extra: Partial<PgNewEvent> = {}): PgNewEvent =>
  newPgEvent({ id: `ret-${++ids}`, route, body: Buffer.alloc(100, 1), ...extra });

/** Stores `n` events on the route and finishes them with `status` at `finishedAt`. */
async function finished(route: string, n: number, status: "delivered" | "dead", finishedAt: number) {
  const q = queries(pool);
  await q.insertBatch(
    Array.from({ length: n }, () => event(route)),
    0,
  );
  const got = await q.claim(route, "seed", 30_000, n);
  await createPgAttemptQueries(pool).insert(
    got.map((e) => ({
      eventId: e.id,
      n: 1,
      startedAt: finishedAt,
      durationMs: 3,
      outcome: status === "delivered" ? "delivered" : "failed",
      reason: null,
      detail: null,
      statusCode: 200,
      error: null,
      responseBody: Buffer.from("ok"),
      responseSize: 2,
    })),
  );
  await q.recordOutcomes(
    "seed",
    got.map((e: DueEvent) => ({
      seq: e.seq,
      status,
      attempts: 1,
      nextAttemptAt: e.nextAttemptAt,
      lastReason: null,
      lastDetail: null,
      lastStatus: 200,
      deliveredAt: status === "delivered" ? finishedAt : null,
      finishedAt,
      responseBytes: 2,
    })),
  );
  return got;
}

const count = async (sql: string) => Number((await pool.query(sql)).rows[0].n);

describe.skipIf(server.url === null)(`PostgreSQL retention (${server.skip ?? "real server"})`, () => {
  test("only finished rows past their age go, in bounded batches, with their attempts; open events never", async () => {
    await finished("old", 5, "delivered", 1_000);
    await finished("old", 2, "dead", 1_000);
    await finished("new", 3, "delivered", 9_000);
    await queries(pool).insertBatch([event("open"), event("open")], 0);
    const r = createPgRetentionQueries(pool);
    expect(await r.pruneFinished("delivered", 5_000, 2)).toEqual([
      { route: "old", status: "delivered", n: 2, bytes: 200 },
    ]);
    expect(await r.pruneFinished("delivered", 5_000, 10)).toEqual([
      { route: "old", status: "delivered", n: 3, bytes: 300 },
    ]);
    expect(await r.pruneFinished("delivered", 5_000, 10)).toEqual([]);
    expect(await r.pruneFinished("dead", 5_000, 10)).toEqual([
      { route: "old", status: "dead", n: 2, bytes: 200 },
    ]);
    expect(await count("SELECT count(*) AS n FROM events WHERE route = 'old'")).toBe(0);
    expect(await count("SELECT count(*) AS n FROM attempts a JOIN events e ON e.id = a.event_id")).toBe(3);
    expect(await count("SELECT count(*) AS n FROM attempts")).toBe(3);
    expect(await count("SELECT count(*) AS n FROM events WHERE route IN ('new', 'open')")).toBe(5);
    // Storage pressure ignores age.
    expect(await r.pruneFinished("delivered", Number.MAX_SAFE_INTEGER, 10)).toMatchObject([
      { route: "new", n: 3 },
    ]);
    expect(await count("SELECT count(*) AS n FROM events WHERE route = 'open'")).toBe(2);
  });

  test("expired dedup keys and old counters go in bounded batches", async () => {
    const q = queries(pool);
    await q.insertBatch(
      [1, 2, 3].map((i) => event("dd", { dedupKey: `k${i}`, dedupExpiresAt: i * 1_000 })),
      0,
    );
    const r = createPgRetentionQueries(pool);
    expect(await r.pruneDedup(2_000, 10)).toBe(2);
    expect((await pool.query("SELECT key FROM dedup")).rows).toEqual([{ key: "k3" }]);
    await createPgStatQueries(pool).add([
      { at: 0, route: "a", metric: "received", detail: "", n: 1 },
      { at: 60_000, route: "a", metric: "received", detail: "", n: 1 },
      { at: 7_200_000, route: "a", metric: "received", detail: "", n: 1 },
    ]);
    expect(await r.pruneStats("minute", 3_600_000, 1)).toBe(1);
    expect(await r.pruneStats("minute", 3_600_000, 10)).toBe(1);
    expect(await r.pruneStats("hour", 3_600_000, 10)).toBe(1);
    expect(await count("SELECT count(*) AS n FROM stats_minute")).toBe(1);
    expect(await count("SELECT count(*) AS n FROM stats_hour")).toBe(1);
  });

  test("a prune never waits for a row another replica holds: it leaves it for a later batch", async () => {
    const [held] = await finished("locked", 3, "delivered", 1_000);
    const other = new pg.Client({
      connectionString: server.url ?? "",
      options: `-c search_path=${replicas.target().schema}`,
    });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query("SELECT seq FROM events WHERE seq = $1 FOR UPDATE", [held?.seq]);
      const r = createPgRetentionQueries(pool);
      const began = Date.now();
      const pruned = await Promise.race([
        r.pruneFinished("delivered", 5_000, 10),
        new Promise<"blocked">((resolve) => setTimeout(() => resolve("blocked"), 3_000)),
      ]);
      expect(pruned).toEqual([{ route: "locked", status: "delivered", n: 2, bytes: 200 }]);
      expect(Date.now() - began).toBeLessThan(3_000);
      await other.query("COMMIT");
      expect(await r.pruneFinished("delivered", 5_000, 10)).toMatchObject([{ route: "locked", n: 1 }]);
    } finally {
      await other.end();
    }
  });
});
