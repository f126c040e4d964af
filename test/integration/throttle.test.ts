import { request } from "undici";
import { afterEach, describe, expect, test } from "vitest";
import { getJson, startHookbuffer, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { type Recorder, startRecorder } from "../helpers/recorder.js";

let hb: TestHookbuffer | undefined;
let up: Recorder | undefined;
let alerts: Recorder | undefined;
afterEach(async () => {
  await hb?.stop();
  await up?.close();
  await alerts?.close();
  hb = undefined;
  up = undefined;
  alerts = undefined;
});

async function admin(path: string) {
  const res = await request(`${hb!.adminUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  await res.body.dump();
  expect(res.statusCode).toBe(200);
}

/** Stores `n` webhooks while the route is paused, then resumes it: a backlog drains at once. */
async function backlog(n: number): Promise<void> {
  await admin("/routes/default/pause");
  for (let i = 0; i < n; i++) {
    const res = await request(`${hb!.ingestUrl}/hook`, { method: "POST", body: `{"n":${i}}` });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
  }
  await admin("/routes/default/resume");
}

const at = (n: number) => up?.requests[n - 1]?.at ?? 0;
const route0 = async () => (await getJson(`${hb!.adminUrl}/stats`)).routes[0];

describe("back-pressure from the upstream slows the whole route", () => {
  test("a 429 with Retry-After pauses the route until then, then resumes at the configured rate; one alert per episode", async () => {
    up = await startRecorder();
    alerts = await startRecorder();
    // The 3rd and 4th attempts are refused with Retry-After (2 s, then 1 s); everything else is accepted.
    up.reply((_r, n) =>
      n === 3
        ? { status: 429, headers: { "retry-after": "2" } }
        : n === 4
          ? { status: 503, headers: { "retry-after": "1" } }
          : { status: 200 },
    );
    hb = await startHookbuffer({
      yaml: `upstream: ${up.url}
delivery: {concurrency: 1, rate_limit: {rate: 10/s, burst: 5}, retry: {schedule: [0s, 100ms, 100ms]}}
alerts: [{url: ${alerts.url}, events: [throttled]}]
`,
    });
    await backlog(30);
    await waitFor(() => (up?.requests.length ?? 0) >= 3, 10_000, "the 429");
    const during = await waitFor(async () => {
      const r = await route0();
      return r?.state === "throttled" ? r : undefined;
    }, 5_000);
    expect(during?.throttle).toMatchObject({ why: "429 with Retry-After", until: expect.any(String) });
    expect(Date.parse(during?.throttle?.until ?? "")).toBeGreaterThan(at(3) + 1_500);

    await waitFor(() => (up?.requests.length ?? 0) >= 32, 20_000, "the drain and the two retries");
    // Nothing of the route reached the upstream while it was paused.
    expect(at(4) - at(3)).toBeGreaterThanOrEqual(1_950);
    expect(at(5) - at(4)).toBeGreaterThanOrEqual(950);
    // Resumed at 10/s with one token, not with a burst of 5: ten more attempts take about 0.9 s
    // (a full burst would make it about 0.5 s; arrival jitter on a busy machine is allowed for).
    expect(at(15) - at(5)).toBeGreaterThanOrEqual(700);
    const after = await waitFor(async () => {
      const s = await getJson(`${hb!.adminUrl}/stats`);
      return s.totals.delivered === 30 ? s : undefined;
    }, 10_000);
    expect(after.routes[0]).toMatchObject({ state: "active", throttle: null });
    expect(after.totals.failed_attempts).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    const posted = alerts.requests.map(
      (r) => JSON.parse(r.body.toString()) as { event: string; route: string },
    );
    expect(posted).toEqual([expect.objectContaining({ event: "throttled", route: "default" })]);
  }, 60_000);

  test("a 429 without Retry-After halves the rate, which recovers stepwise on success", async () => {
    up = await startRecorder();
    up.reply((_r, n) => (n === 10 ? { status: 429 } : { status: 200 }));
    hb = await startHookbuffer({
      yaml: `upstream: ${up.url}\ndelivery: {concurrency: 2, rate_limit: {rate: 20/s, burst: 1}, retry: {schedule: [0s, 100ms]}}\n`,
    });
    await backlog(150);
    const seen: Array<number | null> = [];
    const halved = await waitFor(async () => {
      const r = await route0();
      seen.push(r?.rate_limit.current_per_second ?? null);
      return r?.state === "throttled" ? r : undefined;
    }, 10_000);
    const from = seen.length - 1;
    expect(halved?.throttle?.why).toMatch(/429 without Retry-After/);
    expect(halved?.rate_limit.current_per_second).toBeLessThanOrEqual(12);
    await waitFor(async () => {
      const r = await route0();
      seen.push(r?.rate_limit.current_per_second ?? null);
      return r?.state === "active";
    }, 20_000);
    const afterHalving = seen.slice(from);
    // Stepwise: intermediate rates between the halved and the configured one, never falling.
    expect(afterHalving.some((v) => v !== null && v > 10 && v < 20)).toBe(true);
    expect(afterHalving).toEqual([...afterHalving].sort((a, b) => (a ?? 0) - (b ?? 0)));
    expect(seen.at(-1)).toBe(20);
    // Measured at the upstream: in the second after the 429, about 10 arrivals, not 20.
    const t = at(10);
    const inNextSecond = up.requests.filter((r) => r.at > t && r.at <= t + 1_000).length;
    expect(inNextSecond).toBeLessThanOrEqual(13);
  }, 60_000);
});
