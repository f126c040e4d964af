import { describe, expect, test } from "vitest";
import {
  formatTraceparent,
  incomingTrace,
  normaliseTracestate,
  parseTraceparent,
} from "../../src/tracing/trace-context.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

describe("parseTraceparent", () => {
  test("reads version 00 and round-trips through formatTraceparent", () => {
    const ref = parseTraceparent(`00-${TRACE}-${SPAN}-01`);
    expect(ref).toEqual({ traceId: TRACE, spanId: SPAN, flags: 1 });
    expect(formatTraceparent(ref as NonNullable<typeof ref>)).toBe(`00-${TRACE}-${SPAN}-01`);
    expect(parseTraceparent(` 00-${TRACE}-${SPAN}-00 `)?.flags).toBe(0);
  });

  test.each([
    ["empty", ""],
    ["version ff", `ff-${TRACE}-${SPAN}-01`],
    ["upper-case hex", `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ["all-zero trace id", `00-${"0".repeat(32)}-${SPAN}-01`],
    ["all-zero span id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["short trace id", `00-${TRACE.slice(1)}-${SPAN}-01`],
    ["version 00 with extra fields", `00-${TRACE}-${SPAN}-01-extra`],
    ["missing flags", `00-${TRACE}-${SPAN}`],
    ["not hex", `00-${TRACE}-${SPAN.replace("0", "g")}-01`],
  ])("refuses %s", (_what, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });

  test("reads the first four fields of a later version", () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-03-whatever`)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      flags: 3,
    });
  });
});

describe("normaliseTracestate", () => {
  test("joins several headers into one list without empty members", () => {
    expect(normaliseTracestate(["a=1, ,b=2", " c=3 "])).toBe("a=1,b=2,c=3");
    expect(normaliseTracestate([" , "])).toBeNull();
    expect(normaliseTracestate([])).toBeNull();
  });

  test("keeps at most 32 members", () => {
    const many = Array.from({ length: 40 }, (_, i) => `k${i}=v`).join(",");
    expect(normaliseTracestate([many])?.split(",")).toHaveLength(32);
  });

  test("over 512 characters drops long members first, then from the right", () => {
    const long = `big=${"x".repeat(200)}`;
    const small = Array.from({ length: 30 }, (_, i) => `k${i}=${"v".repeat(12)}`);
    const result = normaliseTracestate([[long, ...small].join(",")]) as string;
    expect(result).not.toContain("big=");
    expect(result.length).toBeLessThanOrEqual(512);
    expect(result.startsWith("k0=")).toBe(true);
  });
});

describe("incomingTrace", () => {
  test("continues one valid traceparent, with its tracestate, header names in any case", () => {
    expect(
      incomingTrace([
        ["TraceParent", `00-${TRACE}-${SPAN}-01`],
        ["tracestate", "a=1"],
        ["TRACESTATE", "b=2"],
      ]),
    ).toEqual({ traceId: TRACE, spanId: SPAN, flags: 1, state: "a=1,b=2" });
  });

  test("starts a new trace for none, several or an invalid traceparent", () => {
    expect(incomingTrace([["tracestate", "a=1"]])).toBeNull();
    expect(
      incomingTrace([
        ["traceparent", `00-${TRACE}-${SPAN}-01`],
        ["traceparent", `00-${TRACE}-${SPAN}-01`],
      ]),
    ).toBeNull();
    expect(incomingTrace([["traceparent", "garbage"]])).toBeNull();
  });
});
