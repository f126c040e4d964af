import { join } from "node:path";
import pino from "pino";
import { describe, expect } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { createIdFactory } from "../../src/ids.js";
import { createIngestor } from "../../src/ingest/service.js";
import { createQueueCounts, createStore, createWriter, openDatabase } from "../../src/store/index.js";
import { createSqliteCommands } from "../../src/store/sqlite-commands.js";
import { test } from "../helpers/harness.js";
import { getJson, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import { tempDir } from "../helpers/temp.js";
import { testStore } from "../helpers/test-store.js";

let refusals = 0;
async function ingest(url: string, body = '{"x":1}') {
  const res = await post(`${url}/hook`, body);
  if (res.status === 503) refusals++;
  return res;
}

const storage = (limits: string, url: string) => `
upstream: ${url}
storage:
  ${limits}
delivery:
  retry: {exponential: {base: 100ms, factor: 1, max_delay: 100ms, max_attempts: 1000}}
  breaker: {failures: 0}
`;

const warnings = (logs: string[]) => logs.filter((l) => l.includes("backpressure: refusing new webhooks"));

describe("backpressure", () => {
  test("above storage.max_pending ingest gets 503 with Retry-After, counted and logged once per episode", async ({
    start,
    up,
  }) => {
    up.reply(() => ({ status: 500 }));
    const hb = await start.hookbuffer({ yaml: storage("max_pending: 5", up.url) });
    refusals = 0;
    for (let i = 0; i < 5; i++) expect((await ingest(hb.ingestUrl)).status).toBe(200);
    for (let i = 0; i < 4; i++) {
      const res = await ingest(hb.ingestUrl);
      expect(res.status).toBe(503);
      expect(res.retryAfter).toMatch(/^\d+$/);
      expect(res.json.error?.code).toBe("backpressure");
      expect(res.json.error?.message).toContain("storage.max_pending 5");
    }
    expect(warnings(hb.logs)).toHaveLength(1);

    // The upstream recovers, the queue drains, the episode ends; a new one logs again.
    up.reply(() => ({ status: 200 }));
    await waitFor(async () => (await ingest(hb.ingestUrl)).status === 200, 10_000, "ingest to resume");
    expect(hb.logs.some((l) => l.includes("backpressure over"))).toBe(true);
    up.reply(() => ({ status: 500 }));
    let refused = 0;
    for (let i = 0; i < 10 && refused === 0; i++) if ((await ingest(hb.ingestUrl)).status === 503) refused++;
    expect(refused).toBe(1);
    expect(warnings(hb.logs)).toHaveLength(2);

    // Every 503 above is counted (the count is written after the answer, hence the wait).
    const stats = await waitFor(async () => {
      const s = await getJson(`${hb.adminUrl}/stats`);
      return s.totals.rejected_backpressure >= refusals && s;
    });
    expect(stats.totals.rejected_backpressure).toBe(refusals);
    expect(refusals).toBeGreaterThanOrEqual(5);
  });

  // Drives the SQLite store's writer and ingestor directly (no hookbuffer), so there is no store to choose.
  test.skipIf(testStore === "postgres")(
    "a burst inside one group-commit batch cannot overshoot max_pending: uncommitted requests count",
    async () => {
      const dir = tempDir();
      const opened = openDatabase({ path: join(dir.dir, "b.db"), synchronous: "normal" });
      try {
        const store = createStore(opened.db);
        const config = loadConfig({ env: {}, flags: { upstream: "http://127.0.0.1:9" } });
        const writer = createWriter({ db: opened.db });
        const clock = { now: () => Date.now() };
        const accept = createIngestor({
          commands: createSqliteCommands({ store, writer, clock, ids: createIdFactory() }),
          queue: createQueueCounts({ initial: [], writer }),
          clock,
          log: pino({ level: "silent" }),
          limits: { maxPending: 10, maxBytes: null },
          verifiers: new Map(),
          onStored: () => undefined,
        });
        const req = { method: "POST", path: "/", query: "", headers: [], body: Buffer.from("{}") };
        // All 60 start in one event-loop turn, before the batch that stores them commits.
        const results = await Promise.all(Array.from({ length: 60 }, () => accept(config.routes[0]!, req)));
        expect(results.filter((r) => r.kind === "accepted")).toHaveLength(10);
        expect(results.filter((r) => r.kind === "backpressure")).toHaveLength(50);
        expect(store.events.countByStatus()[0]?.n).toBe(10);
      } finally {
        opened.close();
        dir.remove();
      }
    },
  );

  test("above storage.max_bytes of undelivered bodies ingest gets 503", async ({ start, up }) => {
    up.reply(() => ({ status: 500 }));
    const hb = await start.hookbuffer({ yaml: storage("max_bytes: 1000", up.url) });
    const body = "x".repeat(300);
    for (let i = 0; i < 3; i++) expect((await ingest(hb.ingestUrl, body)).status).toBe(200);
    const res = await ingest(hb.ingestUrl, body);
    expect(res.status).toBe(503);
    expect(res.retryAfter).toBeDefined();
    expect(res.json.error?.message).toContain("storage.max_bytes 1000");
    expect(warnings(hb.logs)).toHaveLength(1);
  });
});
