import { describe, expect, test } from "vitest";
import { parseRetryAfter } from "../../src/transport/retry-after.js";

const now = Date.UTC(1994, 10, 6, 8, 49, 0); // 37 s before the RFC's example date

describe("parseRetryAfter", () => {
  test.each<[string, string | undefined, number | null]>([
    ["delay-seconds", "120", 120_000],
    ["zero seconds", "0", 0],
    ["seconds with surrounding whitespace", " 5 ", 5_000],
    ["an IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", 37_000],
    ["an obsolete RFC 850 date", "Sunday, 06-Nov-94 08:49:37 GMT", 37_000],
    ["an asctime date, read as UTC", "Sun Nov  6 08:49:37 1994", 37_000],
    ["a date in the past, as no delay", "Sun, 06 Nov 1994 08:00:00 GMT", 0],
    ["an absent header", undefined, null],
    ["an empty header", "", null],
    ["a negative number", "-5", null],
    ["a fraction", "1.5", null],
    ["junk", "soon", null],
    ["a date-like string without a day name", "06 Nov 1994 08:49:37 GMT", null],
    ["an impossible date", "Sun, 99 Foo 1994 08:49:37 GMT", null],
    ["an absurdly large number", "9".repeat(400), null],
  ])("reads %s", (_label, value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});
