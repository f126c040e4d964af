import { describe, expect } from "vitest";
import { test } from "../helpers/harness.js";
import { getJson, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import type { Recorder } from "../helpers/recorder.js";

async function admin(hb: TestHookbuffer, path: string) {
  expect((await post(`${hb.adminUrl}${path}`, "{}", { "content-type": "application/json" })).status).toBe(
    200,
  );
}

/** Stores `n` webhooks while the route is paused, then resumes it: a backlog drains at once. */
async function backlog(hb: TestHookbuffer, n: number): Promise<void> {
  await admin(hb, "/routes/default/pause");
  for (let i = 0; i < n; i++) expect((await post(`${hb.ingestUrl}/hook`, `{"n":${i}}`)).status).toBe(200);
  await admin(hb, "/routes/default/resume");
}

/** When the upstream received its nth request (1-based). */
const arrival = (up: Recorder, n: number) => up.requests[n - 1]?.at ?? 0;
const route0 = async (hb: TestHookbuffer) => (await getJson(`${hb.adminUrl}/stats`)).routes[0];

describe("back-pressure from the upstream slows the whole route", () => {
  test("a 429 with Retry-After pauses the route until then, then resumes at the configured rate; one alert per episode", async ({
    start,
    up,
    alerts,
  }) => {
    // The 3rd and 4th attempts are refused with Retry-After (2 s, then 1 s); everything else is accepted.
    up.reply((_r, n) =>
      n === 3
        ? { status: 429, headers: { "retry-after": "2" } }
        : n === 4
          ? { status: 503, headers: { "retry-after": "1" } }
          : { status: 200 },
    );
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}
delivery: {concurrency: 1, rate_limit: {rate: 10/s, burst: 5}, retry: {schedule: [0s, 100ms, 100ms]}}
alerts: [{url: ${alerts.url}, events: [throttled]}]
`,
    });
    await backlog(hb, 30);
    await waitFor(() => up.requests.length >= 3, 10_000, "the 429");
    const during = await waitFor(async () => {
      const r = await route0(hb);
      return r?.state === "throttled" ? r : undefined;
    }, 5_000);
    expect(during?.throttle).toMatchObject({ why: "429 with Retry-After", until: expect.any(String) });
    expect(Date.parse(during?.throttle?.until ?? "")).toBeGreaterThan(arrival(up, 3) + 1_500);

    await waitFor(() => up.requests.length >= 32, 20_000, "the drain and the two retries");
    // Nothing of the route reached the upstream while it was paused.
    expect(arrival(up, 4) - arrival(up, 3)).toBeGreaterThanOrEqual(1_950);
    expect(arrival(up, 5) - arrival(up, 4)).toBeGreaterThanOrEqual(950);
    // Resumed at 10/s with one token, not with a burst of 5: ten more attempts take about 0.9 s
    // (a full burst would make it about 0.5 s; arrival jitter on a busy machine is allowed for).
    expect(arrival(up, 15) - arrival(up, 5)).toBeGreaterThanOrEqual(700);
    const after = await waitFor(async () => {
      const s = await getJson(`${hb.adminUrl}/stats`);
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

  test("a 429 without Retry-After halves the rate, which recovers stepwise on success", async ({
    start,
    up,
  }) => {
    up.reply((_r, n) => (n === 10 ? { status: 429 } : { status: 200 }));
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}\ndelivery: {concurrency: 2, rate_limit: {rate: 20/s, burst: 1}, retry: {schedule: [0s, 100ms]}}\n`,
    });
    await backlog(hb, 150);
    const seen: Array<number | null> = [];
    const halved = await waitFor(async () => {
      const r = await route0(hb);
      seen.push(r?.rate_limit.current_per_second ?? null);
      return r?.state === "throttled" ? r : undefined;
    }, 10_000);
    const from = seen.length - 1;
    expect(halved?.throttle?.why).toMatch(/429 without Retry-After/);
    expect(halved?.rate_limit.current_per_second).toBeLessThanOrEqual(12);
    await waitFor(async () => {
      const r = await route0(hb);
      seen.push(r?.rate_limit.current_per_second ?? null);
      return r?.state === "active";
    }, 20_000);
    const afterHalving = seen.slice(from);
    // Stepwise: intermediate rates between the halved and the configured one, never falling.
    expect(afterHalving.some((v) => v !== null && v > 10 && v < 20)).toBe(true);
    expect(afterHalving).toEqual([...afterHalving].sort((a, b) => (a ?? 0) - (b ?? 0)));
    expect(seen.at(-1)).toBe(20);
    // Measured at the upstream: in the second after the 429, about 10 arrivals, not 20.
    const t = arrival(up, 10);
    const inNextSecond = up.requests.filter((r) => r.at > t && r.at <= t + 1_000).length;
    expect(inNextSecond).toBeLessThanOrEqual(13);
  }, 60_000);
});
