import { describe, expect, test } from "vitest";
import { configProblems, loadYaml } from "../helpers/config.js";

const UPSTREAM = "http://127.0.0.1:3000";

const load = (yaml: string) => loadYaml(yaml);

const problems = (yaml: string) => configProblems(() => load(yaml));

describe("config: protecting the slow bot", () => {
  test("retry.max_delay caps Retry-After for schedules (1h by default) and is exponential's max_delay", () => {
    expect(load(`upstream: ${UPSTREAM}\n`).routes[0]?.retry.maxDelayMs).toBe(3_600_000);
    const schedule = load(`upstream: ${UPSTREAM}\ndelivery: {retry: {schedule: [0s], max_delay: 10m}}\n`);
    expect(schedule.routes[0]?.retry).toMatchObject({ kind: "schedule", maxDelayMs: 600_000 });
    const exp = load(`upstream: ${UPSTREAM}\ndelivery: {retry: {exponential: {base: 1s}, max_delay: 5m}}\n`);
    expect(exp.routes[0]?.retry).toMatchObject({ kind: "exponential", maxDelayMs: 300_000 });
    expect(
      problems(`upstream: ${UPSTREAM}\ndelivery: {retry: {exponential: {max_delay: 1m}, max_delay: 5m}}\n`),
    ).toEqual([
      { path: "delivery.retry.max_delay", message: expect.stringContaining("exponential.max_delay") },
    ]);
    expect(problems(`upstream: ${UPSTREAM}\ndelivery: {retry: {max_delay: soon}}\n`)).toEqual([
      { path: "delivery.retry.max_delay", message: expect.stringContaining("duration") },
    ]);
  });
});
