/**
 * One condition on a captured request: a JSON pointer into the body or a header, and a test of its
 * value. Shared by passthrough matches and delivery filters, so both read a request the same way.
 */
import type { FilterMatch, FilterTest, FilterValue } from "../config/types.js";
import { resolvePointer } from "../json-pointer.js";
import type { CapturedRequest } from "../model.js";
import { headerGetter, lazyJson } from "./keys.js";

/** A request as conditions read it: headers case-insensitively, the body parsed at most once. */
export interface RequestView {
  /** The first value of a header (any case), or undefined. */
  header(name: string): string | undefined;
  /** The parsed body, or undefined when it is not JSON. */
  json(): unknown;
}

export function requestView(req: Pick<CapturedRequest, "headers" | "body">): RequestView {
  return { header: headerGetter(req.headers), json: lazyJson(req.body) };
}

/** Scalars compare as JSON values; objects and arrays never equal a configured scalar. */
const jsonEquals = (actual: unknown, expected: FilterValue) => actual === expected;

/** A header is text: a configured number or boolean is compared as the text it is written as. */
const headerEquals = (actual: string, expected: FilterValue) =>
  expected !== null && actual === String(expected);

/** Whether a value read from a request passes a test; `undefined` means it is absent. */
export function passes(test: FilterTest, value: unknown, fromHeader: boolean): boolean {
  if (test.op === "exists") return (value !== undefined) === test.value;
  if (value === undefined) return false;
  const equals = (expected: FilterValue) =>
    fromHeader ? headerEquals(value as string, expected) : jsonEquals(value, expected);
  switch (test.op) {
    case "equals":
      return equals(test.value);
    case "in":
      return test.values.some(equals);
    case "prefix":
      return typeof value === "string" && value.startsWith(test.value);
  }
}

/** Whether the request satisfies the condition. */
export function matches(m: FilterMatch, req: RequestView): boolean {
  if (m.source.kind === "header") return passes(m.test, req.header(m.source.name), true);
  return passes(m.test, resolvePointer(req.json(), m.source.pointer), false);
}
