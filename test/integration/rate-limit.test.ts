import { describe, expect } from "vitest";
import { test } from "../helpers/harness.js";
import { getJson, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import { parseExposition } from "../helpers/prom-text.js";

async function admin(hb: TestHookbuffer, path: string) {
  expect((await post(`${hb.adminUrl}${path}`, "{}", { "content-type": "application/json" })).status).toBe(
    200,
  );
}

/** Posts `n` webhooks, `parallel` at a time. */
async function ingest(hb: TestHookbuffer, n: number, parallel = 16): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        const i = next++;
        expect((await post(`${hb.ingestUrl}/hook`, `{"n":${i}}`)).status).toBe(200);
      }
    }),
  );
}

/**
 * The most arrivals in any window beyond what the bucket allows (burst + rate x window), over all
 * windows that start and end at an arrival, each widened by `jitterMs`. 0 or less: the limit held.
 */
function worstExcess(arrivals: number[], perSecond: number, burst: number, jitterMs = 0): number {
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < arrivals.length; i++) {
    for (let j = i; j < arrivals.length; j++) {
      const window = (arrivals[j] as number) - (arrivals[i] as number) + jitterMs;
      worst = Math.max(worst, j - i + 1 - (burst + (perSecond * window) / 1000));
    }
  }
  return worst;
}

/** The most arrivals within any `windowMs`. */
function mostInWindow(arrivals: number[], windowMs: number): number {
  let most = 0;
  let i = 0;
  for (let j = 0; j < arrivals.length; j++) {
    while ((arrivals[j] as number) - (arrivals[i] as number) >= windowMs) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/**
 * Arrival times are taken at the upstream, so they carry the trip's jitter (thread hand-off,
 * loopback, a busy shared machine): an attempt handed over on time may land up to this much later,
 * next to the one after it.
 */
const JITTER_MS = 250;

describe("delivery.rate_limit", () => {
  test.for([true, false])(
    "delivery_thread %s: a backlog of 1,000 drains at 50/s (burst 20) in 20 s +-10 percent, measured at the upstream",
    { timeout: 90_000 },
    async (thread, { start, up }) => {
      const hb = await start.hookbuffer({
        yaml: `upstream: ${up.url}\ndelivery_thread: ${thread}\ndelivery: {concurrency: 16, rate_limit: {rate: 50/s, burst: 20}}\n`,
      });
      await admin(hb, "/routes/default/pause");
      await ingest(hb, 1_000);
      await admin(hb, "/routes/default/resume");
      const midway = await waitFor(async () => {
        if (up.requests.length < 200) return undefined;
        return getJson(`${hb.adminUrl}/stats`);
      }, 30_000);
      expect(midway.routes[0]).toMatchObject({
        state: "active",
        rate_limit: { rate: "50/s", burst: 20, current_per_second: 50 },
      });
      expect(midway.routes[0]?.rate_limit.throttled).toBeGreaterThan(500);
      const prom = parseExposition(await (await fetch(`${hb.adminUrl}/metrics`)).text());
      expect(prom.value("hookbuffer_rate_limit_per_second", { route: "default" })).toBe(50);
      expect(prom.value("hookbuffer_throttled_events", { route: "default" })).toBeGreaterThan(400);

      await waitFor(() => up.requests.length >= 1_000, 40_000, "the drain");
      const arrivals = up.requests.map((r) => r.at).sort((a, b) => a - b);
      const took = (arrivals.at(-1) as number) - (arrivals[0] as number);
      console.log(
        `rate-limit drain (delivery_thread ${thread}): 1000 arrivals in ${took} ms first to last; ` +
          `most in any 1 s window ${mostInWindow(arrivals, 1_000)}; worst excess over burst + rate x window ` +
          `${worstExcess(arrivals, 50, 20).toFixed(2)} raw, ${worstExcess(arrivals, 50, 20, JITTER_MS).toFixed(2)} with ${JITTER_MS} ms jitter`,
      );
      expect(took).toBeGreaterThanOrEqual(18_000);
      expect(took).toBeLessThanOrEqual(22_000);
      expect(worstExcess(arrivals, 50, 20, JITTER_MS)).toBeLessThanOrEqual(0);
      const stats = await waitFor(async () => {
        const s = await getJson(`${hb.adminUrl}/stats`);
        return s.totals.delivered === 1_000 ? s : undefined;
      });
      // Waiting for a token is no attempt: nothing failed, nothing was retried.
      expect(stats.totals.failed_attempts).toBe(0);
      expect(
        up.requests.every((r) => r.headers.some(([k, v]) => k === "X-Hookbuffer-Attempt" && v === "1")),
      ).toBe(true);
      expect(stats.routes[0]?.rate_limit.throttled).toBe(0);
    },
  );
});
