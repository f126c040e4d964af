import pino from "pino";
import { describe, expect } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { createIdFactory } from "../../src/ids.js";
import { createIngestor } from "../../src/ingest/service.js";
import { createQueueCounts, createStore, createWriter, type OpenedDatabase } from "../../src/store/index.js";
import { createPruner } from "../../src/store/pruner.js";
import { createSqliteCommands } from "../../src/store/sqlite-commands.js";
import { test } from "../helpers/harness.js";

const DAY = 86_400_000;
const NOW = Date.UTC(2030, 0, 1);
const log = pino({ level: "silent" });
const config = loadConfig({ env: {}, flags: { upstream: "http://127.0.0.1:9" } });
const retention = { deliveredMs: 7 * DAY, deadMs: 30 * DAY, statsMs: 90 * DAY };

/** Seeds finished or open events straight into SQLite, with one attempt row each. */
function seed(
  opened: OpenedDatabase,
  status: string,
  count: number,
  finishedAt: number | null,
  prefix: string,
): void {
  const ev = opened.db.prepare(
    `INSERT INTO events (id, route, received_at, method, path, query, headers, body, body_size, status,
       next_attempt_at, schedule_start, finished_at, delivered_at)
     VALUES (?, 'default', ?, 'POST', '/', '', '[]', x'7b7d', 2, ?, 0, 0, ?, ?)`,
  );
  const at = opened.db.prepare(
    "INSERT INTO attempts (event_id, n, started_at, duration_ms, outcome) VALUES (?, 1, 0, 1, 'delivered')",
  );
  opened.db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const id = `${prefix}${String(i).padStart(6, "0")}`;
      ev.run(id, (finishedAt ?? NOW) - 1, status, finishedAt, status === "delivered" ? finishedAt : null);
      at.run(id);
    }
  })();
}

const count = (opened: OpenedDatabase, sql: string) => opened.db.prepare(sql).pluck().get() as number;

function setup(opened: OpenedDatabase) {
  const store = createStore(opened.db);
  const writer = createWriter({ db: opened.db });
  const gauges = createQueueCounts({ initial: store.events.countByStatus(), writer });
  const pruner = createPruner({
    space: store.space,
    commands: createSqliteCommands({ store, writer, clock: { now: () => NOW }, ids: createIdFactory() }),
    retention,
    now: () => NOW,
    log,
  });
  return { store, writer, gauges, pruner };
}

describe("retention pruner", () => {
  test("removes only what is past its age: delivered, filtered (as delivered), dead, their attempts, expired dedup keys, old stats", async ({
    start,
  }) => {
    const opened = start.database();
    seed(opened, "delivered", 30, NOW - 8 * DAY, "old-delivered-");
    seed(opened, "delivered", 5, NOW - 6 * DAY, "new-delivered-");
    seed(opened, "filtered", 6, NOW - 8 * DAY, "old-filtered-");
    seed(opened, "filtered", 2, NOW - 6 * DAY, "new-filtered-");
    seed(opened, "dead", 7, NOW - 31 * DAY, "old-dead-");
    seed(opened, "dead", 3, NOW - 29 * DAY, "new-dead-");
    seed(opened, "pending", 4, null, "pending-"); // open events are never pruned, however old
    opened.db.exec(`INSERT INTO dedup VALUES ('default', 'k1', 'x', ${NOW - 1}), ('default', 'k2', 'y', ${NOW + DAY});
      INSERT INTO stats_minute VALUES (${NOW - 91 * DAY}, 'default', 'received', '', 3),
        (${NOW - 89 * DAY}, 'default', 'received', '', 4);`);
    const { pruner, gauges } = setup(opened);
    const report = await pruner.runOnce();
    expect(report).toEqual({ delivered: 30, dead: 7, filtered: 6, dedup: 1, stats: 1, early: 0 });
    expect(count(opened, "SELECT COUNT(*) FROM events WHERE id LIKE 'old-%'")).toBe(0);
    expect(count(opened, "SELECT COUNT(*) FROM events")).toBe(5 + 2 + 3 + 4);
    expect(count(opened, "SELECT COUNT(*) FROM attempts")).toBe(5 + 2 + 3 + 4);
    expect(count(opened, "SELECT COUNT(*) FROM dedup")).toBe(1);
    expect(count(opened, "SELECT SUM(count) FROM stats_minute")).toBe(4);
    expect(gauges.get(null)).toMatchObject({ delivered: 5, dead: 3, filtered: 2, pending: 4 });
  });

  test("a prune of 20k old rows does not stall ingest: every request is answered before it finishes", async ({
    start,
  }) => {
    const opened = start.database();
    seed(opened, "delivered", 20_000, NOW - 8 * DAY, "old-");
    const { store, writer, gauges, pruner } = setup(opened);
    const clock = { now: () => NOW };
    const accept = createIngestor({
      commands: createSqliteCommands({ store, writer, clock, ids: createIdFactory() }),
      queue: gauges,
      clock,
      log,
      limits: config.storage,
      verifiers: new Map(),
      onStored: () => undefined,
    });
    const route = config.routes[0]!;
    const order: string[] = [];
    const pruned = pruner.runOnce().then((r) => {
      order.push("prune finished");
      return r;
    });
    // One provider posting back to back: each request waits for the previous answer.
    for (let i = 0; i < 20; i++) {
      const body = Buffer.from(`{"i":${i}}`);
      const result = await accept(route, { method: "POST", path: "/", query: "", headers: [], body });
      expect(result.kind).toBe("accepted");
      order.push(`ingest ${i}`);
    }
    expect((await pruned).delivered).toBe(20_000);
    expect(order.indexOf("prune finished")).toBe(order.length - 1);
    expect(count(opened, "SELECT COUNT(*) FROM events")).toBe(20);
    expect(gauges.get(null)).toMatchObject({ delivered: 0, pending: 20 });
  });
});
