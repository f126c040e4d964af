import { describe, expect } from "vitest";
import { configWarnings, loadConfig } from "../../src/config/index.js";
import { test } from "../helpers/harness.js";
import { getJson, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import type { Recorder } from "../helpers/recorder.js";

/** The upstream as a bot: junk (anything its provider did not sign) gets 401, real events 200. */
function refuseJunk(recorder: Recorder): void {
  recorder.reply((req) => (req.body.toString().includes("junk") ? { status: 401 } : { status: 200 }));
}

const yaml = (upstream: string, count: string) => `
upstream: ${upstream}
delivery:
  retry: {schedule: [0s]}
  breaker: {failures: 3, cooldown: 10m${count}}
`;

describe("which failed attempts count toward the breaker", () => {
  test("by default junk answered 401 opens the breaker and holds a real event back", async ({
    start,
    up,
  }) => {
    refuseJunk(up);
    const hb = await start.hookbuffer({ yaml: yaml(up.url, "") });
    for (let i = 0; i < 3; i++)
      expect((await post(`${hb.ingestUrl}/hook`, `{"junk":${i}}`)).status).toBe(200);
    await waitFor(async () => (await getJson(`${hb.adminUrl}/stats`)).routes[0]?.state === "open", 15_000);
    await post(`${hb.ingestUrl}/hook`, `{"real":1}`);
    await new Promise((r) => setTimeout(r, 500));
    expect(up.requests.filter((r) => r.body.toString().includes("real"))).toHaveLength(0);
  });

  test("with 4xx left out of breaker.count, junk is neutral and real events flow", async ({ start, up }) => {
    refuseJunk(up);
    const hb = await start.hookbuffer({
      yaml: yaml(up.url, ", count: [connect, timeout, unclassified, 5xx, 429]"),
    });
    // One at a time, each refused and recorded before the next, so the breaker sees a run of six.
    for (let i = 0; i < 6; i++) {
      expect((await post(`${hb.ingestUrl}/hook`, `{"junk":${i}}`)).status).toBe(200);
      await waitFor(async () => (await getJson(`${hb.adminUrl}/stats`)).totals.dead === i + 1, 15_000);
    }
    await post(`${hb.ingestUrl}/hook`, `{"real":1}`);
    await waitFor(
      () => up.requests.some((r) => r.body.toString().includes("real")),
      15_000,
      "the real event",
    );
    const stats = await waitFor(async () => {
      const s = await getJson(`${hb.adminUrl}/stats`);
      return s.totals.delivered === 1 ? s : undefined;
    });
    expect(stats.routes[0]).toMatchObject({ state: "active", disabled: null });
    // Junk is still counted as failed attempts and dead-lettered; only the breaker ignores it.
    expect(stats.totals).toMatchObject({ failed_attempts: 6, dead: 6 });
  });

  test("a listed status code counts even when its class is left out", async ({ start, up }) => {
    up.reply(() => ({ status: 429 }));
    const hb = await start.hookbuffer({ yaml: yaml(up.url, ", count: [5xx, 429]") });
    for (let i = 0; i < 3; i++) await post(`${hb.ingestUrl}/hook`, `{"n":${i}}`);
    await waitFor(async () => (await getJson(`${hb.adminUrl}/stats`)).routes[0]?.state === "open", 15_000);
  });

  test("breaker.count errors name the key; an unverified route on a non-loopback listener is warned about", () => {
    const load = (text: string) => loadConfig({ env: {}, flags: { config: "c.yaml" }, readFile: () => text });
    expect(() => load("upstream: http://127.0.0.1:1\ndelivery: {breaker: {count: [4xx, teapot]}}\n")).toThrow(
      /delivery\.breaker\.count\[1\]: expected one of connect, timeout, unclassified, 3xx, 4xx, 5xx or a status code/,
    );
    expect(() => load("upstream: http://127.0.0.1:1\ndelivery: {breaker: {count: []}}\n")).toThrow(
      /delivery\.breaker\.count: list at least one outcome/,
    );
    const open = load(
      "upstream: http://127.0.0.1:1\nlisten: {host: 0.0.0.0}\nroutes:\n  - {name: a, path: /a}\n  - {name: b, path: /b, verify: {scheme: github, secret: s}}\n",
    );
    expect(configWarnings(open)).toEqual([
      { route: "a", message: expect.stringContaining("accepts unsigned requests on 0.0.0.0") },
    ]);
    const local = load("upstream: http://127.0.0.1:1\nlisten: {host: 127.0.0.1}\n");
    expect(configWarnings(local)).toEqual([]);
  });
});
