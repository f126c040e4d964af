import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect } from "vitest";
import { type Start, test } from "../helpers/harness.js";
import { getJson, waitFor } from "../helpers/hookbuffer.js";
import { post, postJson } from "../helpers/post.js";
import { type Child, spawnHookbuffer } from "../helpers/process.js";
import { parseExposition } from "../helpers/prom-text.js";
import { header, type Recorder } from "../helpers/recorder.js";

/** The built CLI as a child process, killed (-9) after the test if it still runs. */
async function spawn(start: Start, args: string[]): Promise<Child> {
  const child = await spawnHookbuffer(args);
  start.cleanup(async () => {
    child.proc.kill("SIGKILL");
    await child.exited;
  });
  return child;
}

/** A LINE-like body: bytes that are replayed exactly, spacing and key order included. */
const lineBody = (type: string, n: number) =>
  Buffer.from(`{"destination":"U0",  "events":[{"type":"${type}","n":${n},"note":"caf\u00e9 \\u00e9"}]}\n`);

const toLine = (base: string, body: Buffer, headers: Record<string, string> = {}) =>
  postJson(`${base}/line/callback`, body, headers);

const adminPost = (base: string, path: string, body?: unknown) =>
  postJson<Record<string, unknown>>(`${base}${path}`, body === undefined ? "" : JSON.stringify(body));

const CONFIG = (upstream: string) => `upstream: ${upstream}
routes:
  - name: line
    path: /line
    filter:
      all:
        - json: /events/0/type
          in: [message, postback]
        - header: x-test-skip
          exists: false
`;

/** Bodies the upstream received, as strings (byte-exact comparison through latin1). */
const arrived = (r: Recorder) => r.requests.map((q) => q.body.toString("latin1"));

describe("routes[].filter", () => {
  test("only matching webhooks are delivered, byte-exact; the rest are stored as filtered, counted, redeliverable, and a restart does not deliver them", async ({
    start,
    up,
  }) => {
    const dir = start.dir();
    const db = join(dir, "hb.db");
    const file = join(dir, "hookbuffer.yaml");
    writeFileSync(file, CONFIG(up.url));
    let child = await spawn(start, ["--config", file, "--db", db]);

    const matching = [lineBody("message", 1), lineBody("postback", 2), lineBody("message", 3)];
    const left = [
      { body: lineBody("follow", 4), headers: {} },
      { body: lineBody("message", 5), headers: { "X-Test-Skip": "1" } },
      { body: Buffer.from("not json at all"), headers: {} },
    ];
    const ids = new Map<string, Buffer>();
    for (const body of matching) {
      const res = await toLine(child.ingestUrl, body);
      expect(res).toMatchObject({ status: 200, json: { status: "accepted" } });
    }
    for (const { body, headers } of left) {
      const res = await toLine(child.ingestUrl, body, headers);
      expect(res).toMatchObject({ status: 200, json: { status: "filtered" } });
      ids.set(res.json.id as string, body);
    }

    await waitFor(() => up.requests.length >= matching.length, 10_000, "matching webhooks to arrive");
    // Give a filtered event every chance to be (wrongly) sent before looking.
    await new Promise((r) => setTimeout(r, 500));
    expect(arrived(up).sort()).toEqual(matching.map((b) => b.toString("latin1")).sort());

    const listed = await getJson<{ events: Array<{ id: string; status: string; next_attempt_at: unknown }> }>(
      `${child.adminUrl}/events?status=filtered`,
    );
    expect(new Set(listed.events.map((e) => e.id))).toEqual(new Set(ids.keys()));
    expect(listed.events.every((e) => e.status === "filtered" && e.next_attempt_at === null)).toBe(true);

    const stats = await getJson(`${child.adminUrl}/stats`);
    expect(stats.totals).toMatchObject({ received: 6, delivered: 3, filtered: 3 });
    expect(stats.queue).toMatchObject({ pending: 0, delivering: 0, delivered: 3, filtered: 3 });
    expect(stats.routes[0]).toMatchObject({ name: "line", pending: 0, filtered: 3 });
    const perRoute = await getJson(`${child.adminUrl}/stats?route=line`);
    expect(perRoute.totals.filtered).toBe(3);
    const metrics = parseExposition(await (await fetch(`${child.adminUrl}/metrics`)).text());
    expect(metrics.value("hookbuffer_filtered_total", { route: "line" })).toBe(3);
    expect(metrics.value("hookbuffer_received_total", { route: "line" })).toBe(6);
    expect(metrics.value("hookbuffer_queue_events", { route: "line", status: "filtered" })).toBe(3);

    // kill -9 and start again on the same file: filtered events stay filtered.
    child.proc.kill("SIGKILL");
    await child.exited;
    child = await spawn(start, ["--config", file, "--db", db]);
    const after = lineBody("postback", 6);
    expect((await toLine(child.ingestUrl, after)).status).toBe(200);
    await waitFor(() => up.requests.length >= 4, 10_000, "the webhook sent after the restart");
    await new Promise((r) => setTimeout(r, 500));
    expect(arrived(up).sort()).toEqual([...matching, after].map((b) => b.toString("latin1")).sort());
    const restarted = await getJson(`${child.adminUrl}/stats`);
    expect(restarted.queue).toMatchObject({ pending: 0, filtered: 3 });

    // Redeliver one by hand: it reaches the upstream exactly as received.
    const [firstId, firstBody] = [...ids.entries()][0] as [string, Buffer];
    expect((await adminPost(child.adminUrl, `/events/${firstId}/redeliver`)).status).toBe(202);
    const one = await waitFor(
      () => up.requests.find((q) => header(q, "x-hookbuffer-event-id") === firstId),
      10_000,
      "the redelivered event",
    );
    expect(one.body.equals(firstBody)).toBe(true);
    expect(one.url).toBe("/line/callback");

    // The rest in bulk, by status.
    const bulk = await adminPost(child.adminUrl, "/events/redeliver", { status: "filtered", route: "line" });
    expect(bulk).toMatchObject({ status: 200, json: { count: 2 } });
    await waitFor(() => up.requests.length >= 7, 10_000, "the bulk-redelivered events");
    for (const [id, body] of ids) {
      const got = up.requests.filter((q) => header(q, "x-hookbuffer-event-id") === id);
      expect(got).toHaveLength(1);
      expect(got[0]?.body.equals(body)).toBe(true);
    }
    await waitFor(
      async () => (await getJson(`${child.adminUrl}/stats`)).queue.filtered === 0,
      5_000,
      "gauges",
    );
    expect((await getJson(`${child.adminUrl}/stats`)).totals.filtered).toBe(3);
    const history = await getJson<{ status: string; history: Array<{ action: string }> }>(
      `${child.adminUrl}/events/${firstId}`,
    );
    expect(history).toMatchObject({ status: "delivered", history: [{ action: "redeliver" }] });
  });

  test("a filtered webhook adds nothing to the backlog: it is stored while backpressure refuses deliverable ones", async ({
    start,
  }) => {
    const hb = await start.hookbuffer({
      // Port 9 refuses connections, so the first deliverable webhook stays pending.
      yaml: `upstream: http://127.0.0.1:9
storage: {max_pending: 1}
filter: [{json: /type, equals: message}]
`,
    });
    const send = (type: string) => post(`${hb.ingestUrl}/hook`, `{"type":"${type}"}`);
    expect(await send("message")).toMatchObject({ status: 200, json: { status: "accepted" } });
    expect(await send("message")).toMatchObject({ status: 503, json: { error: { code: "backpressure" } } });
    expect(await send("follow")).toMatchObject({ status: 200, json: { status: "filtered" } });
    const stats = await getJson(`${hb.adminUrl}/stats`);
    expect(stats.queue.pending + stats.queue.delivering).toBe(1);
    expect(stats.queue).toMatchObject({ filtered: 1, open_bytes: '{"type":"message"}'.length });
  });

  test("a bad signature is refused (401), not filtered; a duplicate of a filtered webhook is a duplicate", async ({
    start,
    up,
  }) => {
    const secret = "s3cret";
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}
routes:
  - name: gh
    path: /gh
    verify: {scheme: github, secret: ${secret}}
    delivery: {dedup: {header: x-github-delivery}}
    filter: [{header: x-github-event, equals: push}]
`,
    });
    const send = async (event: string, delivery: string, sign = true) => {
      const body = Buffer.from(`{"event":"${event}"}`);
      const sig = `sha256=${createHmac("sha256", sign ? secret : "wrong")
        .update(body)
        .digest("hex")}`;
      return post(`${hb.ingestUrl}/gh`, body, {
        "x-github-event": event,
        "x-github-delivery": delivery,
        "x-hub-signature-256": sig,
      });
    };
    expect(await send("issues", "d1", false)).toMatchObject({ status: 401 });
    const filtered = await send("issues", "d2");
    expect(filtered).toMatchObject({ status: 200, json: { status: "filtered" } });
    expect(await send("issues", "d2")).toMatchObject({
      status: 200,
      json: { status: "duplicate", id: filtered.json.id },
    });
    expect(await send("push", "d3")).toMatchObject({ status: 200, json: { status: "accepted" } });
    await waitFor(() => up.requests.length >= 1, 10_000, "the push webhook");
    const stats = await getJson(`${hb.adminUrl}/stats`);
    expect(stats.totals).toMatchObject({ received: 2, filtered: 1, duplicates: 1, rejected: 1 });
    expect(up.requests.map((r) => header(r, "x-github-event"))).toEqual(["push"]);
  });
});
