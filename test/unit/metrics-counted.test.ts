import { describe, expect, test } from "vitest";
import { createMetrics } from "../../src/stats/metrics.js";
import type { StatIncrement } from "../../src/store/index.js";
import { parseExposition } from "../helpers/prom-text.js";

const inc = (metric: StatIncrement["metric"], n = 1, detail = ""): StatIncrement => ({
  at: 0,
  route: "r",
  metric,
  detail,
  n,
});

describe("metrics fed from committed stat increments", () => {
  test("every stat counter lands on its Prometheus counter; histogram buckets do not", async () => {
    const metrics = createMetrics({
      routes: ["r"],
      queue: () => ({ pending: 0, delivering: 0, delivered: 0, dead: 0, filtered: 0, openBytes: 0 }),
      oldestOpenReceivedAt: () => null,
      route: () => null,
      now: () => 0,
      processMetrics: false,
    });
    metrics.counted([
      inc("received", 3),
      inc("duplicate"),
      inc("delivered", 2),
      inc("dead"),
      inc("rejected", 4),
      inc("rejected_backpressure", 5),
      inc("rejected_storage", 6),
      inc("error_status_code", 2, "500"),
      inc("could_not_connect", 1, "TLS handshake failure (CERT_HAS_EXPIRED)"),
      inc("attempt_ms", 7, "100"),
      inc("lag_ms", 7, "100"),
    ]);
    const m = parseExposition(await metrics.registry.metrics());
    const r = { route: "r" };
    expect(m.value("hookbuffer_received_total", r)).toBe(3);
    expect(m.value("hookbuffer_duplicates_total", r)).toBe(1);
    expect(m.value("hookbuffer_delivered_total", r)).toBe(2);
    expect(m.value("hookbuffer_dead_total", r)).toBe(1);
    expect(m.value("hookbuffer_rejected_total", { route: "r", kind: "signature" })).toBe(4);
    expect(m.value("hookbuffer_rejected_total", { route: "r", kind: "backpressure" })).toBe(5);
    expect(m.value("hookbuffer_rejected_total", { route: "r", kind: "storage" })).toBe(6);
    expect(m.value("hookbuffer_failed_attempts_total", { reason: "error_status_code", detail: "500" })).toBe(
      2,
    );
    expect(
      m.value("hookbuffer_failed_attempts_total", {
        reason: "could_not_connect",
        detail: "TLS handshake failure",
      }),
    ).toBe(1);
    expect(m.value("hookbuffer_attempt_duration_seconds_count", r)).toBe(0);
    expect(m.value("hookbuffer_delivery_lag_seconds_count", r)).toBe(0);
  });
});
