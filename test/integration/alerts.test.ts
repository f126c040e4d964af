import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { describe, expect } from "vitest";
import { createAlerter } from "../../src/alerts/alerter.js";
import type { AlertPayload } from "../../src/alerts/messages.js";
import { type Start, test } from "../helpers/harness.js";
import { waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";

interface Receiver {
  url: string;
  alerts: AlertPayload[];
  /** Requests seen, failed ones included. */
  hits: number;
  /** Status for the nth request (1-based); "hang" never answers. */
  answer: (n: number) => number | "hang";
  close(): Promise<void>;
}

/** A real alert receiver (Slack-style incoming webhook) on a free port, closed after the test. */
async function startReceiver(start: Start): Promise<Receiver> {
  const r: Receiver = { url: "", alerts: [], hits: 0, answer: () => 200, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      r.hits++;
      const status = r.answer(r.hits);
      if (status === "hang") return;
      if (status < 300) r.alerts.push(JSON.parse(Buffer.concat(chunks).toString()) as AlertPayload);
      res.writeHead(status).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  r.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return start.track(r);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const of = (rx: Receiver, event: string) => rx.alerts.filter((a) => a.event === event);

describe("alerts from a running hookbuffer", () => {
  test("a breaker opening and closing is posted once each, with Method's code and Slack text", async ({
    start,
    up,
  }) => {
    const rx = await startReceiver(start);
    let healthy = false;
    up.reply(() => ({ status: healthy ? 200 : 503 }));
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}
delivery: {retry: {schedule: [0s, 50ms, 50ms, 50ms, 50ms, 50ms]}, breaker: {failures: 2, cooldown: 300ms}}
alerts: [{url: ${rx.url}, events: [breaker_open, breaker_closed]}]
`,
    });
    expect((await post(`${hb.ingestUrl}/hook`)).status).toBe(200);
    const opened = await waitFor(() => of(rx, "breaker_open")[0], 5_000, "breaker_open alert");
    expect(opened).toMatchObject({ route: "default", consecutive_failures: 2 });
    expect(opened.disabled).toMatchObject({ code: 25003, sub_type: "WEBHOOK_DISABLED_RECEIVED_5XX_ERROR" });
    expect(opened.text).toContain('route "default" paused');

    healthy = true;
    // New traffic wakes the deliverer, which then sleeps until the probe is due. (Without it the
    // deliverer currently waits up to its 60 s idle sleep before probing: reported separately.)
    expect((await post(`${hb.ingestUrl}/hook`)).status).toBe(200);
    const closed = await waitFor(() => of(rx, "breaker_closed")[0], 5_000, "breaker_closed alert");
    expect(closed).toMatchObject({
      route: "default",
      text: 'hookbuffer: delivery to route "default" resumed.',
    });
    await sleep(500);
    expect(rx.alerts.map((a) => a.event)).toEqual(["breaker_open", "breaker_closed"]);
  });

  test("dead events are summarised in one message per route per minute", async ({ start, up }) => {
    const rx = await startReceiver(start);
    up.reply(() => ({ status: 500 }));
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}
delivery: {retry: {schedule: [0s]}, breaker: {failures: 0}}
alerts: [{url: ${rx.url}, events: [dead]}]
`,
    });
    for (let i = 0; i < 3; i++) expect((await post(`${hb.ingestUrl}/hook`)).status).toBe(200);
    const first = await waitFor(() => of(rx, "dead")[0], 5_000, "dead alert");
    expect(first).toMatchObject({
      route: "default",
      count: 3,
      last_reason: "error_status_code",
      last_detail: "500",
    });
    expect(first.text).toContain("3 events");

    // A fourth dead event inside the minute is held back, not sent on its own.
    expect((await post(`${hb.ingestUrl}/hook`)).status).toBe(200);
    await waitFor(() => up.requests.length >= 4, 5_000, "the fourth attempt");
    await sleep(1_500);
    expect(of(rx, "dead")).toHaveLength(1);
  });

  test("a backlog older than the threshold alerts once per episode", async ({ start }) => {
    const rx = await startReceiver(start);
    const hb = await start.hookbuffer({
      yaml: `upstream: http://127.0.0.1:1
delivery: {retry: {schedule: [0s, 1h]}}
alerts: [{url: ${rx.url}, events: [backlog_age], backlog_age: 1s}]
`,
    });
    expect((await post(`${hb.ingestUrl}/hook`)).status).toBe(200);
    const alert = await waitFor(() => of(rx, "backlog_age")[0], 6_000, "backlog_age alert");
    expect(alert).toMatchObject({ route: null, threshold_ms: 1000, pending: 1 });
    expect(alert.oldest_pending_age_ms as number).toBeGreaterThan(1000);
    await sleep(2_200); // two more checks while the backlog stays old
    expect(of(rx, "backlog_age")).toHaveLength(1);
  });
});

describe("alert posting", () => {
  const log = pino({ level: "silent" });
  const baseDeps = { now: Date.now, log, oldestOpenReceivedAt: () => null, openCount: () => 0 };
  const opened = {
    state: "open" as const,
    consecutiveFailures: 5,
    recentFailures: [],
    disabled: null,
    cooldownMs: 1000,
    probeAt: 0,
  };
  const active = { ...opened, state: "active" as const, consecutiveFailures: 0 };
  const route = { name: "r" } as Parameters<ReturnType<typeof createAlerter>["hooks"]["gate"]>[0];

  test("retries a failing receiver with backoff and stops after the third try", async ({ start }) => {
    const rx = await startReceiver(start);
    rx.answer = (n) => (n < 3 ? 503 : 200);
    const alerter = createAlerter({
      ...baseDeps,
      alerts: [{ url: rx.url, events: ["breaker_open"], backlogAgeMs: 60_000 }],
      post: { backoffMs: 50 },
    });
    alerter.hooks.gate(route, active, opened);
    await waitFor(() => rx.alerts.length === 1, 3_000, "the third try");
    expect(rx.hits).toBe(3);

    rx.answer = () => 500;
    alerter.hooks.gate(route, active, opened);
    await waitFor(() => rx.hits === 6, 3_000, "three more tries");
    await sleep(300);
    expect(rx.hits).toBe(6);
    await alerter.stop();
  });

  test("a hanging receiver never blocks the hook, and stop cuts it short", async ({ start }) => {
    const rx = await startReceiver(start);
    rx.answer = () => "hang";
    const alerter = createAlerter({
      ...baseDeps,
      alerts: [{ url: rx.url, events: ["breaker_open", "breaker_closed"], backlogAgeMs: 60_000 }],
    });
    const t0 = performance.now();
    alerter.hooks.gate(route, active, opened);
    expect(performance.now() - t0).toBeLessThan(50);
    await waitFor(() => rx.hits === 1, 3_000, "the post to arrive");
    const t1 = performance.now();
    await alerter.stop();
    expect(performance.now() - t1).toBeLessThan(1_000);
    alerter.hooks.gate(route, opened, active); // after stop: nothing is sent
    await sleep(100);
    expect(rx.hits).toBe(1);
  });

  test("only the events a target subscribed to are posted to it", async ({ start }) => {
    const rx = await startReceiver(start);
    const alerter = createAlerter({
      ...baseDeps,
      alerts: [{ url: rx.url, events: ["breaker_closed"], backlogAgeMs: 60_000 }],
    });
    alerter.hooks.gate(route, active, opened);
    alerter.hooks.gate(route, opened, active);
    await waitFor(() => rx.alerts.length === 1, 3_000, "one alert");
    await sleep(100);
    expect(rx.alerts.map((a) => a.event)).toEqual(["breaker_closed"]);
    await alerter.stop();
  });
});
