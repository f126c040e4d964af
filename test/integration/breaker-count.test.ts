import { request } from "undici";
import { afterEach, describe, expect, test } from "vitest";
import { configWarnings, loadConfig } from "../../src/config/index.js";
import { getJson, startHookbuffer, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { type Recorder, startRecorder } from "../helpers/recorder.js";

let hb: TestHookbuffer | undefined;
let up: Recorder | undefined;
afterEach(async () => {
  await hb?.stop();
  await up?.close();
  hb = undefined;
  up = undefined;
});

async function post(url: string, body: string) {
  const res = await request(`${url}/hook`, { method: "POST", body });
  await res.body.dump();
  return res.statusCode;
}

/** A bot that answers junk (anything not signed by its provider) with 401 and real events with 200. */
async function botRefusingJunk(): Promise<Recorder> {
  const recorder = await startRecorder();
  recorder.reply((req) => (req.body.toString().includes("junk") ? { status: 401 } : { status: 200 }));
  return recorder;
}

const yaml = (upstream: string, count: string) => `
upstream: ${upstream}
delivery:
  retry: {schedule: [0s]}
  breaker: {failures: 3, cooldown: 10m${count}}
`;

describe("which failed attempts count toward the breaker", () => {
  test("by default junk answered 401 opens the breaker and holds a real event back", async () => {
    up = await botRefusingJunk();
    hb = await startHookbuffer({ yaml: yaml(up.url, "") });
    for (let i = 0; i < 3; i++) expect(await post(hb.ingestUrl, `{"junk":${i}}`)).toBe(200);
    await waitFor(async () => (await getJson(`${hb!.adminUrl}/stats`)).routes[0]?.state === "open", 15_000);
    await post(hb.ingestUrl, `{"real":1}`);
    await new Promise((r) => setTimeout(r, 500));
    expect(up.requests.filter((r) => r.body.toString().includes("real"))).toHaveLength(0);
  });

  test("with 4xx left out of breaker.count, junk is neutral and real events flow", async () => {
    up = await botRefusingJunk();
    hb = await startHookbuffer({ yaml: yaml(up.url, ", count: [connect, timeout, unclassified, 5xx, 429]") });
    // One at a time, each refused and recorded before the next, so the breaker sees a run of six.
    for (let i = 0; i < 6; i++) {
      expect(await post(hb.ingestUrl, `{"junk":${i}}`)).toBe(200);
      await waitFor(async () => (await getJson(`${hb!.adminUrl}/stats`)).totals.dead === i + 1, 15_000);
    }
    await post(hb.ingestUrl, `{"real":1}`);
    await waitFor(
      () => up?.requests.some((r) => r.body.toString().includes("real")),
      15_000,
      "the real event",
    );
    const stats = await waitFor(async () => {
      const s = await getJson(`${hb!.adminUrl}/stats`);
      return s.totals.delivered === 1 ? s : undefined;
    });
    expect(stats.routes[0]).toMatchObject({ state: "active", disabled: null });
    // Junk is still counted as failed attempts and dead-lettered; only the breaker ignores it.
    expect(stats.totals).toMatchObject({ failed_attempts: 6, dead: 6 });
  });

  test("a listed status code counts even when its class is left out", async () => {
    up = await startRecorder();
    up.reply(() => ({ status: 429 }));
    hb = await startHookbuffer({ yaml: yaml(up.url, ", count: [5xx, 429]") });
    for (let i = 0; i < 3; i++) await post(hb.ingestUrl, `{"n":${i}}`);
    await waitFor(async () => (await getJson(`${hb!.adminUrl}/stats`)).routes[0]?.state === "open", 15_000);
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
