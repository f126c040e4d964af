/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): reading an incoming `traceparent` and
 * `tracestate`, and writing the `traceparent` of a span. Pure functions, no OpenTelemetry import,
 * so the rules are testable on their own.
 */

/** A span's place in a trace, as `traceparent` carries it. */
export interface SpanRef {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** 16 lower-case hex digits, not all zero. */
  spanId: string;
  /** The trace-flags byte; bit 0 is "sampled". */
  flags: number;
}

/** A trace continued from a request: its parent span and the vendors' `tracestate`, if any. */
export interface IncomingTrace extends SpanRef {
  state: string | null;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-|$)/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/**
 * Parses a `traceparent` value. Version 00 must be exactly 55 characters; a later version is read
 * by its first four fields, as the spec asks of a parser that does not know it. Version ff,
 * upper-case hex and all-zero ids are invalid.
 */
export function parseTraceparent(value: string): SpanRef | null {
  const text = value.trim();
  const m = TRACEPARENT.exec(text);
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (version === "ff") return null;
  if (version === "00" && (text.length !== 55 || rest !== "")) return null;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

/** The `traceparent` of a span (version 00). */
export function formatTraceparent(ref: SpanRef): string {
  const flags = (ref.flags & 0xff).toString(16).padStart(2, "0");
  return `00-${ref.traceId}-${ref.spanId}-${flags}`;
}

export function isSampled(ref: SpanRef): boolean {
  return (ref.flags & 1) === 1;
}

/** The spec's limits: at most 32 list members; at least 512 characters must be propagated. */
const MAX_MEMBERS = 32;
const MAX_LENGTH = 512;
const LONG_MEMBER = 128;

/**
 * Joins the `tracestate` headers (several are one comma-separated list) into one value, without
 * empty members, at most 32 of them. Over 512 characters, members longer than 128 go first, then
 * the rightmost ones, as the spec suggests. Null when nothing is left.
 */
export function normaliseTracestate(values: readonly string[]): string | null {
  let members: string[] = [];
  for (const value of values) {
    for (const part of value.split(",")) {
      const member = part.trim();
      if (member !== "") members.push(member);
    }
  }
  members = members.slice(0, MAX_MEMBERS);
  const length = () => members.join(",").length;
  if (length() > MAX_LENGTH) members = members.filter((m) => m.length <= LONG_MEMBER);
  while (members.length > 0 && length() > MAX_LENGTH) members.pop();
  return members.length > 0 ? members.join(",") : null;
}

/**
 * The trace a request continues: its one valid `traceparent` and its `tracestate`. Null when there
 * is no `traceparent`, more than one, or an invalid one (the request then starts a new trace, and
 * its `tracestate`, which belongs to no trace we know, is not read).
 */
export function incomingTrace(headers: ReadonlyArray<readonly [string, string]>): IncomingTrace | null {
  let parent: string | null = null;
  let count = 0;
  const states: string[] = [];
  for (const [name, value] of headers) {
    if (name.length !== 11 && name.length !== 10) continue;
    const lower = name.toLowerCase();
    if (lower === "traceparent") {
      parent = value;
      count++;
    } else if (lower === "tracestate") {
      states.push(value);
    }
  }
  if (count !== 1 || parent === null) return null;
  const ref = parseTraceparent(parent);
  if (ref === null) return null;
  return { ...ref, state: normaliseTracestate(states) };
}
