import { describe, expect } from "vitest";
import { test } from "../helpers/harness.js";
import { getJson, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import type { Reply } from "../helpers/recorder.js";

const config = (upstream: string, extra = "") => `
upstream: ${upstream}
delivery:
  timeout: 150ms
  concurrency: 2
  retry: {schedule: [0s, 20ms, 20ms, 20ms, 20ms, 20ms, 20ms, 20ms, 20ms, 20ms, 20ms, 20ms]}
  breaker: {failures: 5, cooldown: 400ms, max_cooldown: 2s}
${extra}`;

async function routeState(hbx: TestHookbuffer) {
  const stats = await getJson(`${hbx.adminUrl}/stats`);
  return stats.routes[0] as {
    name: string;
    state: string;
    disabled: null | Record<string, unknown>;
    pending: number;
  };
}

/** Waits for the route's breaker to open; resolves with the route's state then. */
const opened = (hb: TestHookbuffer) =>
  waitFor(
    async () => {
      const r = await routeState(hb);
      return r.state === "open" ? r : undefined;
    },
    8_000,
    "the breaker to open",
  );

describe("circuit breaker", () => {
  test.for<[string, Reply, number, string]>([
    ["5xx", { status: 503 }, 25003, "WEBHOOK_DISABLED_RECEIVED_5XX_ERROR"],
    ["4xx", { status: 404 }, 25002, "WEBHOOK_DISABLED_RECEIVED_4XX_ERROR"],
    ["timeout", { status: 200, delayMs: 1_000 }, 25004, "WEBHOOK_DISABLED_TIMEOUT_ON_RESPONSE"],
  ])(
    "opens after 5 failed attempts with Method's code for %s, keeps ingesting, and recovers by itself",
    { timeout: 20_000 },
    async ([_name, failure, code, subType], { start, up }) => {
      let healthy = false;
      up.reply(() => (healthy ? { status: 200 } : failure));
      const hb = await start.hookbuffer({ yaml: config(up.url) });
      expect((await post(`${hb.ingestUrl}/hook`)).status).toBe(200);
      const open = await opened(hb);
      expect(open.disabled).toMatchObject({
        type: "WEBHOOK_DISABLED",
        code,
        sub_type: subType,
        message: expect.any(String),
      });
      const attemptsWhenOpened = up.requests.length;
      expect(attemptsWhenOpened).toBe(5);

      // Open: ingest still stores, delivery waits.
      for (let i = 0; i < 3; i++) expect((await post(`${hb.ingestUrl}/hook`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 150));
      expect(up.requests.length).toBe(attemptsWhenOpened);

      healthy = true;
      await waitFor(
        async () => (await getJson(`${hb.adminUrl}/stats`)).totals.delivered === 4,
        8_000,
        "recovery",
      );
      const closed = await routeState(hb);
      expect(closed).toMatchObject({ state: "active", disabled: null, pending: 0 });
    },
  );

  test("connection failures open it as 25001, and only one probe runs per cooldown while it stays down", async ({
    start,
    servers,
  }) => {
    const port = await servers.closedPort();
    const hb = await start.hookbuffer({ yaml: config(`http://127.0.0.1:${port}`) });
    for (let i = 0; i < 4; i++) await post(`${hb.ingestUrl}/hook`);
    const open = await opened(hb);
    expect(open.disabled).toMatchObject({ code: 25001, sub_type: "WEBHOOK_DISABLED_FAILED_OTHER" });
    const before = (await getJson(`${hb.adminUrl}/stats`)).totals.failed_attempts;
    await new Promise((r) => setTimeout(r, 1_000)); // one cooldown (400 ms) then a doubled one (800 ms)
    const after = (await getJson(`${hb.adminUrl}/stats`)).totals.failed_attempts;
    expect(after - before).toBeGreaterThanOrEqual(1);
    expect(after - before).toBeLessThanOrEqual(2);
    expect((await routeState(hb)).state).toBe("open");
  }, 20_000);

  test("breaker state survives a restart", async ({ start, up }) => {
    up.reply(() => ({ status: 500 }));
    const dir = start.dir();
    const yaml = config(up.url).replace("cooldown: 400ms", "cooldown: 1h");
    let hb = await start.hookbuffer({ yaml, dir });
    await post(`${hb.ingestUrl}/hook`);
    await opened(hb);
    await hb.stop();
    hb = await start.hookbuffer({ yaml, dir });
    const r = await routeState(hb);
    expect(r.state).toBe("open");
    expect(r.disabled).toMatchObject({ code: 25003 });
    await new Promise((res) => setTimeout(res, 200));
    expect(up.requests.length).toBe(5); // still paused after the restart
  }, 20_000);
});
