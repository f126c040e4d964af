import { join } from "node:path";
import pino from "pino";
import { request } from "undici";
import { afterEach, describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { createIdFactory } from "../../src/ids.js";
import { createIngestor } from "../../src/ingest/service.js";
import { createQueueCounts, createStore, createWriter, openDatabase } from "../../src/store/index.js";
import { getJson, startHookbuffer, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { type Recorder, startRecorder } from "../helpers/recorder.js";
import { tempDir } from "../helpers/temp.js";

let hb: TestHookbuffer | undefined;
let up: Recorder | undefined;
afterEach(async () => {
  await hb?.stop();
  await up?.close();
  hb = undefined;
  up = undefined;
});

let refusals = 0;
async function post(url: string, body = '{"x":1}') {
  const res = await request(`${url}/hook`, { method: "POST", body });
  if (res.statusCode === 503) refusals++;
  const json = (await res.body.json()) as { error?: { code: string; message: string } };
  return { status: res.statusCode, retryAfter: res.headers["retry-after"], json };
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
  test("above storage.max_pending ingest gets 503 with Retry-After, counted and logged once per episode", async () => {
    up = await startRecorder();
    up.reply(() => ({ status: 500 }));
    hb = await startHookbuffer({ yaml: storage("max_pending: 5", up.url) });
    refusals = 0;
    for (let i = 0; i < 5; i++) expect((await post(hb.ingestUrl)).status).toBe(200);
    for (let i = 0; i < 4; i++) {
      const res = await post(hb.ingestUrl);
      expect(res.status).toBe(503);
      expect(res.retryAfter).toMatch(/^\d+$/);
      expect(res.json.error?.code).toBe("backpressure");
      expect(res.json.error?.message).toContain("storage.max_pending 5");
    }
    expect(warnings(hb.logs)).toHaveLength(1);

    // The upstream recovers, the queue drains, the episode ends; a new one logs again.
    up.reply(() => ({ status: 200 }));
    await waitFor(async () => (await post(hb!.ingestUrl)).status === 200, 10_000, "ingest to resume");
    expect(hb.logs.some((l) => l.includes("backpressure over"))).toBe(true);
    up.reply(() => ({ status: 500 }));
    let refused = 0;
    for (let i = 0; i < 10 && refused === 0; i++) if ((await post(hb.ingestUrl)).status === 503) refused++;
    expect(refused).toBe(1);
    expect(warnings(hb.logs)).toHaveLength(2);

    // Every 503 above is counted (the count is written after the answer, hence the wait).
    const stats = await waitFor(async () => {
      const s = await getJson(`${hb!.adminUrl}/stats`);
      return s.totals.rejected_backpressure >= refusals && s;
    });
    expect(stats.totals.rejected_backpressure).toBe(refusals);
    expect(refusals).toBeGreaterThanOrEqual(5);
  });

  test("a burst inside one group-commit batch cannot overshoot max_pending: uncommitted requests count", async () => {
    const dir = tempDir();
    const opened = openDatabase({ path: join(dir.dir, "b.db"), synchronous: "normal" });
    try {
      const store = createStore(opened.db);
      const config = loadConfig({ env: {}, flags: { upstream: "http://127.0.0.1:9" } });
      const writer = createWriter({ db: opened.db });
      const accept = createIngestor({
        store,
        writer,
        queue: createQueueCounts({ initial: [], writer }),
        clock: { now: () => Date.now() },
        ids: createIdFactory(),
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
  });

  test("above storage.max_bytes of undelivered bodies ingest gets 503", async () => {
    up = await startRecorder();
    up.reply(() => ({ status: 500 }));
    hb = await startHookbuffer({ yaml: storage("max_bytes: 1000", up.url) });
    const body = "x".repeat(300);
    for (let i = 0; i < 3; i++) expect((await post(hb.ingestUrl, body)).status).toBe(200);
    const res = await post(hb.ingestUrl, body);
    expect(res.status).toBe(503);
    expect(res.retryAfter).toBeDefined();
    expect(res.json.error?.message).toContain("storage.max_bytes 1000");
    expect(warnings(hb.logs)).toHaveLength(1);
  });
});
