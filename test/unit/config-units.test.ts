import { describe, expect, test } from "vitest";
import { formatDuration, parseDuration, parseSize } from "../../src/config/units.js";

describe("parseDuration", () => {
  test.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["24h", 86_400_000],
    ["7d", 604_800_000],
    ["2w", 1_209_600_000],
    ["1h30m", 5_400_000],
    ["1h 30m 15s", 5_415_000],
    ["1.5s", 1_500],
    ["0s", 0],
    ["30S", 30_000],
    [" 10s ", 10_000],
    ["250", 250],
    [250, 250],
    [0, 0],
  ])("reads %j as %d ms", (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  test.each([
    "-5s",
    -1,
    "abc",
    "",
    "5 seconds",
    "10x",
    "1h30",
    "s",
    "1..5s",
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ])("rejects %j", (input) => {
    expect(() => parseDuration(input)).toThrow(RangeError);
  });

  test("says what was wrong and what is expected", () => {
    expect(() => parseDuration("5 minutes")).toThrow(/invalid duration "5 minutes".*e\.g\. 30s/);
    expect(() => parseDuration("-5s")).toThrow(/must not be negative/);
  });
});

describe("parseSize", () => {
  test.each([
    ["100b", 100],
    ["512kb", 524_288],
    ["1mb", 1_048_576],
    ["1MB", 1_048_576],
    ["1mib", 1_048_576],
    ["1 MiB", 1_048_576],
    ["1gb", 1_073_741_824],
    ["1.5kb", 1_536],
    ["2048", 2_048],
    [2048, 2_048],
  ])("reads %j as %d bytes", (input, expected) => {
    expect(parseSize(input)).toBe(expected);
  });

  test.each(["-1mb", -1, "1xb", "mb", "", "1 m b", Number.NaN])("rejects %j", (input) => {
    expect(() => parseSize(input)).toThrow(RangeError);
  });

  test("says what was wrong and what is expected", () => {
    expect(() => parseSize("ten megs")).toThrow(/invalid size "ten megs".*e\.g\. 1mb/);
  });
});

describe("formatDuration", () => {
  test.each([
    [0, "0s"],
    [500, "500ms"],
    [1_500, "1s500ms"],
    [5_400_000, "1h30m"],
    [90_061_000, "1d1h1m1s"],
  ])("writes %d ms as %s", (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  test("round-trips through parseDuration", () => {
    for (const ms of [0, 1, 999, 61_000, 5_400_000, 604_800_000, 93_784_005]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
