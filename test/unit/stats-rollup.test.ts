import { describe, expect } from "vitest";
import { readCounters } from "../../src/stats/report.js";
import { createStore, createWriter } from "../../src/store/index.js";
import { splitWindow } from "../../src/store/stats.js";
import { test } from "../helpers/harness.js";

const HOUR = 3_600_000;

describe("stats rollup", () => {
  test("splits a window into minute edges and whole hours", () => {
    expect(splitWindow(30 * 60_000, 3 * HOUR + 5 * 60_000)).toEqual([
      { table: "minute", from: 30 * 60_000, to: HOUR },
      { table: "hour", from: HOUR, to: 3 * HOUR },
      { table: "minute", from: 3 * HOUR, to: 3 * HOUR + 5 * 60_000 },
    ]);
    expect(splitWindow(0, 2 * HOUR)).toEqual([{ table: "hour", from: 0, to: 2 * HOUR }]);
    expect(splitWindow(10 * 60_000, 50 * 60_000)).toEqual([
      { table: "minute", from: 10 * 60_000, to: 50 * 60_000 },
    ]);
  });

  test("totals and hourly series over any window equal the sum of the minute counts", async ({ start }) => {
    const opened = start.database();
    const writer = createWriter({ db: opened.db });
    const store = createStore(opened.db);
    const counts: Array<[number, number]> = [];
    let seed = 7;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let i = 0; i < 600; i++) {
      // Every tenth minute only, so one minute holds several rows and pages end inside a minute.
      const at = Math.floor(rand() * 72 * 6) * 600_000 + Math.floor(rand() * 60_000);
      const n = 1 + Math.floor(rand() * 5);
      counts.push([at, n]);
      await writer.run((ctx) => ctx.count(at, i % 2 ? "r" : "s", "received", String(i % 3), n));
    }
    for (let k = 0; k < 25; k++) {
      const from = Math.floor(rand() * 72 * HOUR);
      const to = from + Math.floor(rand() * (72 * HOUR - from)) + 60_000;
      const minuteFloor = (t: number) => t - (t % 60_000);
      const expected = counts
        .filter(([at]) => minuteFloor(at) >= from && minuteFloor(at) < to)
        .reduce((s, [, n]) => s + n, 0);
      // Pages of 7 rows: many page boundaries, inside and across the minute and hour parts.
      const read = await readCounters(store.stats, { from, to, route: null, bucketMs: HOUR }, 7);
      const got = read.totals.reduce((s, r) => s + r.count, 0);
      expect(got, `window ${from}..${to}`).toBe(expected);
      const series = read.series.reduce((s, r) => s + r.count, 0);
      expect(series, `series ${from}..${to}`).toBe(expected);
      const minutes = await readCounters(store.stats, { from, to, route: null, bucketMs: 5 * 60_000 }, 7);
      expect(
        minutes.series.reduce((s, r) => s + r.count, 0),
        `5m series ${from}..${to}`,
      ).toBe(expected);
    }
  });
});
