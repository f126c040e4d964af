import { createHmac } from "node:crypto";
import { describe, expect } from "vitest";
import { test } from "../helpers/harness.js";
import { getJson, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import { parseExposition } from "../helpers/prom-text.js";

const TOKEN = "metrics-test-token";

const yaml = (upstream: string) => `
admin: {token: ${TOKEN}}
routes:
  - name: ok
    path: /ok
    upstream: ${upstream}
    delivery: {dedup: {header: X-Id}}
  - name: bad
    path: /bad
    upstream: ${upstream}
    delivery: {retry: {schedule: [0s]}, breaker: {failures: 2}}
  - name: down
    path: /down
    upstream: http://127.0.0.1:1
    delivery: {retry: {schedule: [0s, 1h]}, connect_timeout: 1s}
  - name: signed
    path: /signed
    upstream: ${upstream}
    verify: {scheme: hmac, secret: s3cret, header: X-Signature, algorithm: sha256, encoding: hex}
`;

async function scrape(adminUrl: string) {
  const res = await fetch(`${adminUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return parseExposition(await res.text());
}

describe("GET /metrics", () => {
  test("counts real traffic per route, reason and detail, and agrees with /stats", async ({ start, up }) => {
    up.reply((req) => (req.url.startsWith("/bad") ? { status: 503 } : { status: 200 }));
    const hb = await start.hookbuffer({ yaml: yaml(up.url) });
    const ingest = hb.ingestUrl;

    for (const id of ["a", "b", "c", "a"])
      expect((await post(`${ingest}/ok/x`, "{}", { "X-Id": id })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await post(`${ingest}/bad/x`, `{"n":${i}}`)).status).toBe(200);
    expect((await post(`${ingest}/down/x`, "{}")).status).toBe(200);
    expect((await post(`${ingest}/signed/x`, "{}", { "X-Signature": "00" })).status).toBe(401);
    const sig = createHmac("sha256", "s3cret").update("{}").digest("hex");
    expect((await post(`${ingest}/signed/x`, "{}", { "X-Signature": sig })).status).toBe(200);

    const m = await waitFor(
      async () => {
        const e = await scrape(hb.adminUrl);
        const settled =
          e.value("hookbuffer_delivered_total", { route: "ok" }) === 3 &&
          e.value("hookbuffer_delivered_total", { route: "signed" }) === 1 &&
          e.value("hookbuffer_dead_total", { route: "bad" }) === 2 &&
          e.value("hookbuffer_failed_attempts_total", { route: "down" }) === 1;
        return settled ? e : undefined;
      },
      10_000,
      "deliveries to settle in /metrics",
    );

    expect(m.types.get("hookbuffer_received_total")).toBe("counter");
    expect(m.types.get("hookbuffer_queue_events")).toBe("gauge");
    expect(m.types.get("hookbuffer_ack_duration_seconds")).toBe("histogram");
    expect(m.value("hookbuffer_received_total", { route: "ok" })).toBe(3);
    expect(m.value("hookbuffer_duplicates_total", { route: "ok" })).toBe(1);
    expect(m.value("hookbuffer_rejected_total", { route: "signed", kind: "signature" })).toBe(1);
    expect(m.value("hookbuffer_rejected_total", { route: "signed", kind: "backpressure" })).toBe(0);
    expect(
      m.value("hookbuffer_failed_attempts_total", {
        route: "bad",
        reason: "error_status_code",
        detail: "503",
      }),
    ).toBe(2);
    expect(
      m.value("hookbuffer_failed_attempts_total", {
        route: "down",
        reason: "could_not_connect",
        detail: "Connection failed",
      }),
    ).toBe(1);

    // Gauges are read at scrape time from the queue and the breaker.
    expect(m.value("hookbuffer_queue_events", { route: "ok", status: "delivered" })).toBe(3);
    expect(m.value("hookbuffer_queue_events", { route: "bad", status: "dead" })).toBe(2);
    expect(m.value("hookbuffer_queue_events", { route: "down", status: "pending" })).toBe(1);
    expect(m.value("hookbuffer_breaker_state", { route: "bad", state: "open" })).toBe(1);
    expect(m.value("hookbuffer_breaker_state", { route: "bad", state: "active" })).toBe(0);
    expect(m.value("hookbuffer_breaker_state", { route: "ok", state: "active" })).toBe(1);
    expect(m.value("hookbuffer_oldest_pending_age_seconds")).toBeGreaterThan(0);

    // Histograms: one ack per stored or duplicate webhook, one attempt and lag per delivery.
    expect(m.value("hookbuffer_ack_duration_seconds_count", { route: "ok" })).toBe(4);
    expect(m.value("hookbuffer_ack_duration_seconds_bucket", { route: "ok", le: "+Inf" })).toBe(4);
    expect(m.value("hookbuffer_attempt_duration_seconds_count", { route: "ok" })).toBe(3);
    expect(m.value("hookbuffer_delivery_lag_seconds_count", { route: "ok" })).toBe(3);
    expect(m.value("hookbuffer_delivery_lag_seconds_sum", { route: "ok" })).toBeGreaterThan(0);

    // Every configured route has its series from the start, and process metrics share the registry.
    expect(m.has("hookbuffer_received_total", { route: "signed" })).toBe(true);
    expect(m.has("hookbuffer_delivered_total", { route: "bad" })).toBe(true);
    expect(m.has("process_cpu_user_seconds_total")).toBe(true);
    expect(m.has("nodejs_eventloop_lag_seconds")).toBe(true);

    // The same numbers as /stats.
    const stats = await getJson(`${hb.adminUrl}/stats`, TOKEN);
    expect(m.value("hookbuffer_received_total")).toBe(stats.totals.received);
    expect(m.value("hookbuffer_delivered_total")).toBe(stats.totals.delivered);
    expect(m.value("hookbuffer_failed_attempts_total")).toBe(stats.totals.failed_attempts);
    expect(m.value("hookbuffer_duplicates_total")).toBe(stats.totals.duplicates);
  });

  test("needs the bearer token like the rest of the admin API", async ({ start, up }) => {
    const hb = await start.hookbuffer({ yaml: yaml(up.url) });
    const res = await fetch(`${hb.adminUrl}/metrics`);
    expect(res.status).toBe(401);
  });
});
