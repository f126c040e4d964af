import { describe, expect } from "vitest";
import { test } from "../helpers/harness.js";
import { getJson, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import type { Recorder } from "../helpers/recorder.js";

const body = (user: string, n: number) => JSON.stringify({ events: [{ source: { userId: user }, n }] });
/** The (user, n) an upstream request carries; a non-JSON body is user "(none)". */
function parse(b: Buffer): { user: string; n: number } {
  try {
    const e = (JSON.parse(b.toString()) as { events: Array<{ source: { userId: string }; n: number }> })
      .events[0]!;
    return { user: e.source.userId, n: e.n };
  } catch {
    return { user: "(none)", n: 0 };
  }
}

async function ingest(hb: TestHookbuffer, text: string) {
  expect((await post(`${hb.ingestUrl}/callback`, text)).status).toBe(200);
}

/** The order in which each event was first delivered successfully (2xx). */
function deliveredOrder(rec: Recorder, ok: Set<number>): Array<{ user: string; n: number }> {
  const seen = new Set<string>();
  const order: Array<{ user: string; n: number }> = [];
  rec.requests.forEach((r, i) => {
    if (!ok.has(i)) return;
    const e = parse(r.body);
    const key = `${e.user}/${e.n}`;
    if (!seen.has(key)) order.push(e);
    seen.add(key);
  });
  return order;
}

describe("ordering", () => {
  test("fifo delivers one at a time in arrival order, under retries and across a restart", async ({
    start,
    up,
  }) => {
    const dir = start.dir();
    const ok = new Set<number>();
    let inflight = 0;
    let maxInflight = 0;
    up.reply((_req, n) => {
      inflight++;
      maxInflight = Math.max(maxInflight, inflight);
      setTimeout(() => inflight--, 15);
      // Every third request fails, so retries interleave with new events.
      if (n % 3 === 0) return { status: 500, delayMs: 15 };
      ok.add(n - 1);
      return { status: 200, delayMs: 15 };
    });
    const yaml = `upstream: ${up.url}\ndelivery: {ordering: fifo, concurrency: 8, retry: {schedule: [0s, 30ms, 30ms, 30ms, 30ms]}}\n`;
    let hb = await start.hookbuffer({ yaml, dir });
    for (let i = 0; i < 10; i++) await ingest(hb, body("u", i));
    await waitFor(() => ok.size >= 4, 5_000, "some deliveries");
    await hb.stop();
    hb = await start.hookbuffer({ yaml, dir });
    for (let i = 10; i < 20; i++) await ingest(hb, body("u", i));
    await waitFor(
      async () => (await getJson(`${hb.adminUrl}/stats`)).queue.delivered === 20,
      15_000,
      "all delivered",
    );
    expect(deliveredOrder(up, ok).map((e) => e.n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(maxInflight).toBe(1);
  }, 30_000);

  test("a JSON-pointer key keeps FIFO per key while different keys run in parallel", async ({
    start,
    up,
  }) => {
    const ok = new Set<number>();
    const inflightByUser = new Map<string, number>();
    let overlapSameUser = false;
    let overlapAcrossUsers = false;
    up.reply((req, n) => {
      const { user } = parse(req.body);
      const mine = (inflightByUser.get(user) ?? 0) + 1;
      inflightByUser.set(user, mine);
      if (mine > 1) overlapSameUser = true;
      if ([...inflightByUser.values()].filter((v) => v > 0).length > 1) overlapAcrossUsers = true;
      setTimeout(() => inflightByUser.set(user, (inflightByUser.get(user) ?? 1) - 1), 20);
      if (n % 4 === 0) return { status: 503, delayMs: 20 };
      ok.add(n - 1);
      return { status: 200, delayMs: 20 };
    });
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}\ndelivery: {ordering: {key: /events/0/source/userId}, concurrency: 4, retry: {schedule: [0s, 20ms, 20ms, 20ms, 20ms]}}\n`,
    });
    const users = ["alice", "bob", "carol"];
    await Promise.all(
      users.map(async (u) => {
        for (let i = 0; i < 8; i++) await ingest(hb, body(u, i));
      }),
    );
    await ingest(hb, "not json"); // falls into the shared key, still delivered
    await waitFor(
      async () => (await getJson(`${hb.adminUrl}/stats`)).queue.delivered === 25,
      15_000,
      "all delivered",
    );
    const order = deliveredOrder(up, ok);
    expect(order.filter((e) => e.user === "(none)")).toHaveLength(1);
    for (const u of users) {
      expect(order.filter((e) => e.user === u).map((e) => e.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    }
    expect(overlapSameUser).toBe(false);
    expect(overlapAcrossUsers).toBe(true);
  }, 30_000);
});
