import Database from "better-sqlite3";
import type pg from "pg";
import { beforeAll, describe, expect, test } from "vitest";
import { createSqliteEventReads } from "../../src/admin/event-reads.js";
import type { EventStatus, Reason } from "../../src/model.js";
import {
  type AttemptRecord,
  createStore,
  type EventFilter,
  type EventReads,
  type StatRow,
} from "../../src/store/index.js";
import { migrate } from "../../src/store/migrations.js";
import { createPgAttemptQueries } from "../../src/store/postgres/attempts.js";
import { createPgEventReads } from "../../src/store/postgres/event-reads.js";
import { createPgEventQueries, type PgNewEvent } from "../../src/store/postgres/events.js";
import { createPgStatQueries } from "../../src/store/postgres/stats.js";
import { newPgEvent } from "../helpers/events.js";
import { findTestPostgres, usePostgresReplicas } from "../helpers/postgres.js";

const server = await findTestPostgres();
const { replica } = usePostgresReplicas(server);

/** What happened to an event after it was stored (its last attempt), the same in both stores. */
interface After {
  status?: EventStatus;
  attempts?: number;
  reason?: Reason;
  lastStatus?: number;
  /** Leased by a deliverer: `held` now, `expired` a lease that ran out (reads pending). */
  lease?: "held" | "expired";
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const line = (userId: string, type = "message") =>
  json({ destination: "U0", events: [{ type, source: { type: "user", userId } }] });

let n = 0;
function ev(fields: Partial<PgNewEvent>, after: After = {}): [PgNewEvent, After] {
  n++;
  return [newPgEvent({ id: `e${String(n).padStart(2, "0")}`, receivedAt: n * 1000, ...fields }), after];
}

// One set of events for both stores: bodies, headers, paths, routes and outcomes the filters tell apart.
const EVENTS: Array<[PgNewEvent, After]> = [
  ev(
    { route: "a", path: "/a/hook", body: line("U123") },
    { status: "delivered", attempts: 1, lastStatus: 200 },
  ),
  ev({ route: "a", path: "/a/hook", body: line("U124") }),
  ev({ route: "a", path: "/a/hook", body: line("U999", "follow") }, { lease: "held" }),
  ev({ route: "a", body: json({ order: { id: 42, paid: true, note: "50%*", tag: "été" } }) }),
  ev({ route: "a", body: json({ order: { id: "42", paid: "true" } }) }, { lease: "expired" }),
  ev({ route: "a", body: Buffer.from('{"order": {"id": 4.2e1, "paid": 1, "n": 42.0}}') }),
  ev({ route: "a", body: json({ order: { id: null, paid: false, 0: "zero" } }) }),
  ev({ route: "a", body: json({ arr: ["x", "y"], order: [{ id: 42 }] }) }),
  ev({ route: "a", body: Buffer.from("not json at all: U123 message") }),
  ev({ route: "a", body: Buffer.from([0xff, 0xfe, 0x55, 0x31, 0x32, 0x33]) }),
  ev({ route: "a", body: Buffer.from('{"events": [{"source": {"userId": "U123"') }),
  ev(
    { route: "a", path: "/a/gh", headers: [["X-GitHub-Event", "push"]], body: json({}) },
    { status: "delivered", attempts: 1, lastStatus: 200 },
  ),
  ev(
    {
      route: "a",
      path: "/a/gh",
      headers: [
        ["x-github-event", "pull_request"],
        ["X-Other", "Push"],
      ],
    },
    { status: "delivered", attempts: 2, lastStatus: 200 },
  ),
  ev(
    { route: "a", path: "/a/fail/1", headers: [["X-GITHUB-EVENT", "push"]] },
    { status: "dead", attempts: 1, reason: "error_status_code", lastStatus: 500 },
  ),
  ev(
    { route: "b", path: "/b/gh", headers: [["X-GitHub-Event", "push"]], body: line("U123") },
    { lease: "held" },
  ),
  ev(
    { route: "b", path: "/b", body: line("U12") },
    { status: "dead", attempts: 3, reason: "could_not_connect" },
  ),
  ev({ route: "b", path: "/b", body: json({ order: { note: "50%" } }) }, { status: "filtered" }),
];

const NONE: EventFilter = { status: null, route: null, reason: null, since: null, until: null };
const j = (pointer: string, match: EventFilter["path"] & object): EventFilter => ({
  ...NONE,
  json: [{ pointer, match }],
});
const eq = (value: string) => ({ op: "equals" as const, value });
const pre = (value: string) => ({ op: "prefix" as const, value });
const exists = { op: "exists" as const };
const hdr = (name: string, match: EventFilter["path"] & object): EventFilter => ({
  ...NONE,
  headers: [{ name, match }],
});

const FILTERS: Array<[string, EventFilter]> = [
  ["everything", NONE],
  ["json equals", j("/events/0/source/userId", eq("U123"))],
  ["json prefix", j("/events/0/source/userId", pre("U12"))],
  ["json exists", j("/events/0/source/userId", exists)],
  ["json object exists", j("/events/0", exists)],
  [
    "json terms combine",
    {
      ...NONE,
      json: [
        { pointer: "/events/0/source/userId", match: pre("U12") },
        { pointer: "/events/0/type", match: eq("message") },
      ],
    },
  ],
  ["json number", j("/order/id", eq("42"))],
  ["json number written otherwise", j("/order/n", eq("42"))],
  ["json true", j("/order/paid", eq("true"))],
  ["json false", j("/order/paid", eq("false"))],
  ['json 1 (true, 1, "1")', j("/order/paid", eq("1"))],
  ["json null is not there", j("/order/id", exists)],
  ["json value ending in *", j("/order/note", eq("50%*"))],
  ["json prefix of text", j("/order/note", pre("50"))],
  ["json prefix is not a number match", j("/order/id", pre("4"))],
  ["json non-ASCII prefix", j("/order/tag", pre("ét"))],
  ["json index on an object", j("/order/0", exists)],
  ["json key on an array", j("/arr/x", exists)],
  ["json negative index", j("/arr/-1", exists)],
  ["json array index", j("/arr/1", eq("y"))],
  ["json none", j("/events/0/source/userId", eq("U1"))],
  ["header equals, any case", hdr("x-github-event", eq("push"))],
  ["header value is exact", hdr("x-other", eq("push"))],
  ["header prefix", hdr("x-github-event", pre("pu"))],
  ["header exists", hdr("x-github-event", exists)],
  ["header and route and status", { ...hdr("x-github-event", eq("push")), route: "a", status: "delivered" }],
  ["path equals", { ...NONE, path: eq("/a/gh") }],
  ["path prefix", { ...NONE, path: pre("/a/") }],
  ["last status", { ...NONE, lastStatus: 500 }],
  ["status and reason", { ...NONE, status: "dead", reason: "error_status_code" }],
  ["attempts between", { ...NONE, minAttempts: 1, maxAttempts: 2 }],
  ["attempts at least", { ...NONE, minAttempts: 3 }],
  ["route", { ...NONE, route: "b" }],
  ["received window", { ...NONE, since: 3000, until: 9000 }],
  ["delivering: leases held", { ...NONE, status: "delivering" }],
  ["pending: not leased", { ...NONE, status: "pending" }],
  ["filtered", { ...NONE, status: "filtered" }],
];

const NOW = Date.now();

function sqliteSide() {
  const db = new Database(":memory:");
  migrate(db);
  const store = createStore(db);
  const leased = new Set<number>();
  const set = db.prepare(
    "UPDATE events SET status = ?, attempts = ?, last_reason = ?, last_status = ? WHERE id = ?",
  );
  for (const [e, a] of EVENTS) {
    const seq = store.events.insert(e);
    set.run(a.status ?? "pending", a.attempts ?? 0, a.reason ?? null, a.lastStatus ?? null, e.id);
    if (a.lease === "held") leased.add(seq);
  }
  const reads = createSqliteEventReads(store, {
    isLeased: (s) => leased.has(s),
    leasedSeqs: () => [...leased],
  });
  return { db, store, reads };
}

async function pgSide(pool: pg.Pool) {
  await createPgEventQueries(pool).insertBatch(
    EVENTS.map(([e]) => e),
    NOW,
  );
  for (const [e, a] of EVENTS) {
    const lease = a.lease === "held" ? 60_000 : a.lease === "expired" ? -60_000 : null;
    await pool.query(
      `UPDATE events SET status = $1, attempts = $2, last_reason = $3, last_status = $4, locked_by = $5,
         lease_until = CASE WHEN $6::bigint IS NULL THEN NULL ELSE (extract(epoch from now()) * 1000)::bigint + $6 END
       WHERE id = $7`,
      [
        a.status ?? "pending",
        a.attempts ?? 0,
        a.reason ?? null,
        a.lastStatus ?? null,
        lease === null ? null : "r1",
        lease,
        e.id,
      ],
    );
  }
  return createPgEventReads(pool);
}

describe.skipIf(server.url === null)(`PostgreSQL event reads (${server.skip ?? "real server"})`, () => {
  let sqlite: ReturnType<typeof sqliteSide>;
  let pool: pg.Pool;
  let pgReads: EventReads;
  beforeAll(async () => {
    sqlite = sqliteSide();
    pool = await replica();
    pgReads = await pgSide(pool);
  });

  const ids = async (r: EventReads, f: EventFilter, cursor: number | null = null, limit = 100) =>
    (await r.list(f, cursor, limit, Number.POSITIVE_INFINITY)).rows.map((e) => e.id);

  test.each(FILTERS)("%s: the same events as the SQLite store, newest first", async (_name, filter) => {
    // A status filter means the status a row reads as; the SQLite store's `pending` filter also
    // lists the rows its deliverer holds (shown as delivering), PostgreSQL's does not.
    const want = (await sqlite.reads.list(filter, null, 100, Number.POSITIVE_INFINITY)).rows
      .filter((e) => filter.status === null || e.status === filter.status)
      .map((e) => e.id);
    expect(await ids(pgReads, filter)).toEqual(want);
    expect(await pgReads.count(filter)).toBe(want.length);
    expect((await pgReads.refs(filter, 100)).map((r) => r.id)).toEqual(want);
  });

  test("the table is not vacuous: most filters match some events and none matches all", async () => {
    const sizes = await Promise.all(FILTERS.map(async ([, f]) => (await ids(sqlite.reads, f)).length));
    expect(sizes[0]).toBe(EVENTS.length);
    expect(sizes.slice(1).every((s) => s < EVENTS.length)).toBe(true);
    expect(sizes.filter((s) => s > 0).length).toBeGreaterThan(FILTERS.length - 6);
  });

  test("rows, refs and pages below a cursor read the same; a held lease reads delivering, an expired one pending", async () => {
    const sqlitePage = await sqlite.reads.list(NONE, null, 100, Number.POSITIVE_INFINITY);
    const pgPage = await pgReads.list(NONE, null, 100, Number.POSITIVE_INFINITY);
    expect(pgPage.rows).toEqual(sqlitePage.rows);
    expect(pgPage).toMatchObject({ resumeAt: null, explain: { rowsScanned: null, partial: false } });
    const status = Object.fromEntries(pgPage.rows.map((r) => [r.id, r.status]));
    expect([status.e03, status.e05, status.e15]).toEqual(["delivering", "pending", "delivering"]);
    expect(await pgReads.refs(NONE, 100)).toEqual(await sqlite.reads.refs(NONE, 100));
    const cursor = pgPage.rows[5]?.seq ?? 0;
    expect(await ids(pgReads, NONE, cursor, 3)).toEqual(await ids(sqlite.reads, NONE, cursor, 3));
    expect(await ids(pgReads, NONE, cursor, 3)).toHaveLength(3);
  });

  test("get, attempts, history and a recorded request read as in the SQLite store", async () => {
    for (const id of ["e01", "e03", "e10", "e13"])
      expect(await pgReads.get(id)).toEqual(await sqlite.reads.get(id));
    expect((await pgReads.get("e03"))?.status).toBe("delivering");
    expect(await pgReads.get("nope")).toBeNull();

    const attempt = (k: number, extra: Partial<AttemptRecord> = {}): AttemptRecord => ({
      eventId: "e13",
      n: k,
      startedAt: 1_000 * k,
      durationMs: 12,
      outcome: "failed",
      reason: "error_status_code",
      detail: "500",
      statusCode: 500,
      error: null,
      responseBody: Buffer.from("oops"),
      responseSize: 4,
      ...extra,
    });
    const records = [
      attempt(2, { outcome: "delivered", reason: null, detail: null, statusCode: 200 }),
      attempt(1),
    ];
    for (const r of records) sqlite.store.attempts.insert(r);
    await createPgAttemptQueries(pool).insert(records);
    expect(await pgReads.attempts("e13")).toEqual(await sqlite.reads.attempts("e13"));
    expect((await pgReads.attempts("e13")).map((a) => a.n)).toEqual([1, 2]);

    // Two actions in one millisecond keep the order they were recorded in.
    const history: Array<[number, string | null]> = [
      [5_000, "req-2"],
      [3_000, null],
      [5_000, "req-1"],
    ];
    for (const [at, req] of history) {
      sqlite.db
        .prepare("INSERT INTO event_history (event_id, at, action, request_id) VALUES (?, ?, ?, ?)")
        .run("e13", at, "redeliver", req);
      await pool.query(
        "INSERT INTO event_history (event_id, at, action, request_id) VALUES ($1, $2, $3, $4)",
        ["e13", at, "redeliver", req],
      );
    }
    expect(await pgReads.history("e13")).toEqual(await sqlite.reads.history("e13"));
    expect((await pgReads.history("e13")).map((h) => h.requestId)).toEqual([null, "req-2", "req-1"]);

    sqlite.store.idempotency.put("k1", 1, "fp", '{"ok":true}', 0);
    await pool.query(
      `INSERT INTO admin_requests (key, at, fingerprint, response) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key) DO UPDATE SET at = EXCLUDED.at, fingerprint = EXCLUDED.fingerprint, response = EXCLUDED.response`,
      ["k1", 1, "fp", '{"ok":true}'],
    );
    expect(await pgReads.request("k1")).toEqual(await sqlite.reads.request("k1"));
    expect(await pgReads.request("k1")).toEqual({ fingerprint: "fp", response: '{"ok":true}' });
    expect(await pgReads.request("k2")).toBeNull();
  });

  test("stat pages walk every route's counters in key order, a page after the last key, as SQLite's do", async () => {
    const MIN = 60_000;
    const rows: StatRow[] = [];
    for (const at of [0, MIN, 2 * MIN, 3 * MIN]) {
      for (const route of ["B", "a", "a_b", "b"]) {
        for (const [metric, detail] of [
          ["received", ""],
          ["error_status_code", "500"],
          ["error_status_code", "502"],
        ] as const) {
          rows.push({ at, route, metric, detail, count: at / MIN + route.length });
        }
      }
    }
    const insert = sqlite.db.prepare(
      "INSERT INTO stats_minute (minute, route, metric, detail, count) VALUES (?, ?, ?, ?, ?)",
    );
    for (const r of rows) {
      insert.run(r.at, r.route, r.metric, r.detail, r.count);
      await pool.query(
        "INSERT INTO stats_minute (minute, route, metric, detail, count) VALUES ($1, $2, $3, $4, $5)",
        [r.at, r.route, r.metric, r.detail, r.count],
      );
    }
    const pgStats = createPgStatQueries(pool);
    async function walk(page: (after: StatRow | null) => StatRow[] | Promise<StatRow[]>) {
      const seen: StatRow[] = [];
      let after: StatRow | null = null;
      for (let i = 0; i < 100; i++) {
        const got: StatRow[] = await page(after);
        seen.push(...got);
        if (got.length < 5) return seen;
        after = got[got.length - 1] as StatRow;
      }
      throw new Error("pages never ended");
    }
    const want = await walk((after) => sqlite.store.stats.page("minute", MIN, 3 * MIN, after, 5));
    const got = await walk((after) => pgStats.page("minute", MIN, 3 * MIN, after, 5));
    expect(got).toEqual(want);
    expect(got).toHaveLength(2 * 12);
    expect(new Set(got.map((r) => `${r.at} ${r.route} ${r.metric} ${r.detail}`)).size).toBe(got.length);
  });
});
