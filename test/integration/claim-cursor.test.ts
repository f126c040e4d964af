// Claims continue from a cursor instead of rescanning past every lease. Under a frozen clock every
// event shares one millisecond, so anything that becomes due again sorts behind the cursor by seq:
// these are the cases the deliverer must move the cursor back for.
import { describe, expect } from "vitest";
import { test } from "../helpers/harness.js";
import { getJson, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import { header, type Recorder } from "../helpers/recorder.js";

const frozen = { now: () => 1_750_000_000_000 };

async function ingest(hb: TestHookbuffer, user: string): Promise<string> {
  const res = await post(
    `${hb.ingestUrl}/callback`,
    JSON.stringify({ events: [{ source: { userId: user } }] }),
  );
  expect(res.status).toBe(200);
  return res.json.id as string;
}

async function admin(hb: TestHookbuffer, method: string, path: string): Promise<number> {
  const res = await fetch(`${hb.adminUrl}${path}`, {
    method,
    headers: { "content-type": "application/json" },
  });
  await res.arrayBuffer();
  return res.status;
}

/** Event ids in the order the upstream saw them. */
const seen = (rec: Recorder) => rec.requests.map((r) => header(r, "x-hookbuffer-event-id"));

describe("claim cursor", () => {
  test("an event due again at once, behind the cursor, is claimed again", async ({ start, up }) => {
    up.reply((_r, n) => (n === 1 ? { status: 503 } : { status: 200 }));
    // Attempts on this thread, so their times (and so the retry's due time) come from the frozen clock.
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}\ndelivery_thread: false\ndelivery: {concurrency: 1, retry: {schedule: [0s, 0s, 0s]}}\n`,
      clock: frozen,
    });
    // Paused while ingesting, so one claim takes all five and the cursor ends past the first.
    expect(await admin(hb, "POST", "/routes/default/pause")).toBe(200);
    const ids: string[] = [];
    for (const u of ["a", "b", "c", "d", "e"]) ids.push(await ingest(hb, u));
    expect(await admin(hb, "POST", "/routes/default/resume")).toBe(200);

    await waitFor(() => up.requests.length >= 6, 5_000, "five deliveries and one retry");
    const order = seen(up);
    expect(order[0]).toBe(ids[0]);
    expect(order.filter((id) => id === ids[0])).toHaveLength(2);
    expect(new Set(order)).toEqual(new Set(ids));
  });

  test("an ordered successor unblocked behind the cursor is claimed", async ({ start, up }) => {
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}\ndelivery: {ordering: {key: /events/0/source/userId}, concurrency: 4}\n`,
      clock: frozen,
    });
    expect(await admin(hb, "POST", "/routes/default/pause")).toBe(200);
    // x2 waits behind x1; the claim takes x1 and y1, so the cursor ends at y1, past x2.
    const x1 = await ingest(hb, "x");
    const x2 = await ingest(hb, "x");
    const y1 = await ingest(hb, "y");
    expect(await admin(hb, "POST", "/routes/default/resume")).toBe(200);

    await waitFor(() => up.requests.length >= 3, 5_000, "three deliveries");
    const order = seen(up);
    expect(new Set(order)).toEqual(new Set([x1, x2, y1]));
    expect(order.indexOf(x1)).toBeLessThan(order.indexOf(x2));
  });

  test("redelivering an event in the cursor's millisecond delivers it again", async ({ start, up }) => {
    const hb = await start.hookbuffer({ yaml: `upstream: ${up.url}\n`, clock: frozen });
    const first = await ingest(hb, "a");
    await ingest(hb, "b");
    // Recorded, not just sent: a leased event cannot be redelivered (409).
    await waitFor(
      async () => (await getJson(`${hb.adminUrl}/stats`)).queue.delivered === 2,
      5_000,
      "two deliveries",
    );
    expect(await admin(hb, "POST", `/events/${first}/redeliver`)).toBe(202);
    await waitFor(() => up.requests.length >= 3, 5_000, "the redelivery");
    expect(seen(up)[2]).toBe(first);
  });
});
