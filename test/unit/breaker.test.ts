import { describe, expect, test } from "vitest";
import { afterAttempt, allowance, dominantCategory } from "../../src/deliver/breaker.js";
import { activeGate } from "../../src/gate.js";
import type { Classification } from "../../src/model.js";

const cfg = { failures: 3, cooldownMs: 1_000, maxCooldownMs: 3_000 };
const s503: Classification = { reason: "error_status_code", detail: "503" };
const s404: Classification = { reason: "error_status_code", detail: "404" };
const timeout: Classification = { reason: "request_timeout", detail: "Request timeout" };
const refused: Classification = { reason: "could_not_connect", detail: "Connection failed" };

function run(failures: Classification[]) {
  let s = activeGate();
  for (const f of failures) s = afterAttempt(s, cfg, f, false, 0);
  return s;
}

describe("circuit breaker", () => {
  test("opens after the configured number of consecutive failures, not before", () => {
    expect(run([s503, s503]).state).toBe("active");
    const open = run([s503, s503, s503]);
    expect(open.state).toBe("open");
    expect(open.probeAt).toBe(1_000);
  });

  test("a success in between resets the run", () => {
    let s = run([s503, s503]);
    s = afterAttempt(s, cfg, null, false, 0);
    s = afterAttempt(s, cfg, s503, false, 0);
    expect(s.state).toBe("active");
    expect(s.consecutiveFailures).toBe(1);
  });

  test.each([
    [[s503, s503, s503], 25003, "WEBHOOK_DISABLED_RECEIVED_5XX_ERROR"],
    [[s404, s404, s404], 25002, "WEBHOOK_DISABLED_RECEIVED_4XX_ERROR"],
    [[timeout, timeout, timeout], 25004, "WEBHOOK_DISABLED_TIMEOUT_ON_RESPONSE"],
    [[refused, refused, refused], 25001, "WEBHOOK_DISABLED_FAILED_OTHER"],
    [[s503, timeout, timeout], 25004, "WEBHOOK_DISABLED_TIMEOUT_ON_RESPONSE"],
  ] as const)("records Method's code for the run's majority category (%#)", (failures, code, subType) => {
    const s = run([...failures]);
    expect(s.disabled).toMatchObject({ type: "WEBHOOK_DISABLED", code, sub_type: subType });
  });

  test("a tie goes to the latest of the tied categories", () => {
    expect(dominantCategory(["5xx", "timeout"])).toBe("timeout");
    expect(dominantCategory(["timeout", "5xx"])).toBe("5xx");
    expect(dominantCategory(["5xx", "timeout", "5xx", "other"])).toBe("5xx");
  });

  test("lets exactly one probe through after the cooldown, doubling it while probes fail", () => {
    const open = run([s503, s503, s503]);
    expect(allowance(open, 8, 999)).toEqual({ slots: 0, probe: false });
    expect(allowance(open, 8, 1_000)).toEqual({ slots: 1, probe: true });
    const failedProbe = afterAttempt(open, cfg, s503, true, 1_000);
    expect(failedProbe.cooldownMs).toBe(2_000);
    expect(failedProbe.probeAt).toBe(3_000);
    const capped = afterAttempt(failedProbe, cfg, s503, true, 3_000);
    expect(capped.cooldownMs).toBe(3_000);
  });

  test("a failure of a non-probe attempt while open does not push the probe back", () => {
    const open = run([s503, s503, s503]);
    expect(afterAttempt(open, cfg, s503, false, 500).probeAt).toBe(open.probeAt);
  });

  test("a successful probe closes the breaker at full concurrency", () => {
    const closed = afterAttempt(run([s503, s503, s503]), cfg, null, true, 1_000);
    expect(closed.state).toBe("active");
    expect(closed.disabled).toBeNull();
    expect(allowance(closed, 8, 1_000)).toEqual({ slots: 8, probe: false });
  });

  test("failures: 0 disables the breaker", () => {
    let s = activeGate();
    for (let i = 0; i < 50; i++) s = afterAttempt(s, { ...cfg, failures: 0 }, s503, false, 0);
    expect(s.state).toBe("active");
  });
});
