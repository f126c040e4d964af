/**
 * `filter:` of a route (README, Routes): a list of matches that must all hold, or `all:`, `any:`
 * and `not:` groups of them. Checked by hand rather than as a zod union so every problem keeps
 * its own key path (`routes[0].filter.all[1].in`) and says what is wrong in one line.
 */
import { z } from "zod";
import { headerName, jsonPointer } from "./schema-fields.js";
import type { DeliveryFilter, FilterSource, FilterTest, FilterValue } from "./types.js";

type Path = Array<string | number>;
type Report = (path: Path, message: string) => void;

const SOURCES = ["json", "header"] as const;
const OPERATORS = ["equals", "in", "exists", "prefix"] as const;
const GROUPS = ["all", "any", "not"] as const;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const isScalar = (v: unknown): v is FilterValue =>
  v === null ||
  typeof v === "string" ||
  typeof v === "boolean" ||
  (typeof v === "number" && Number.isFinite(v));

/** Runs a field schema at `path`, reporting its own message; undefined when it fails. */
function field<T>(schema: z.ZodType<T>, value: unknown, path: Path, report: Report): T | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  report(path, parsed.error.issues[0]?.message ?? "invalid");
  return undefined;
}

function source(node: Record<string, unknown>, at: Path, report: Report): FilterSource | undefined {
  const named = SOURCES.filter((k) => node[k] !== undefined);
  if (named.length !== 1) {
    report(at, named.length === 0 ? "name one of json or header" : "name only one of json or header");
    return undefined;
  }
  if (named[0] === "json") {
    const pointer = field(jsonPointer, node.json, [...at, "json"], report);
    return pointer === undefined ? undefined : { kind: "json", pointer };
  }
  const name = field(headerName, node.header, [...at, "header"], report);
  return name === undefined ? undefined : { kind: "header", name };
}

function test(node: Record<string, unknown>, at: Path, report: Report): FilterTest | undefined {
  const named = OPERATORS.filter((k) => node[k] !== undefined);
  if (named.length !== 1) {
    const message =
      named.length === 0 ? "needs one of equals, in, exists or prefix" : "name only one operator";
    report(at, `${message} (got ${named.join(", ") || "none"})`);
    return undefined;
  }
  const op = named[0] as (typeof OPERATORS)[number];
  const value = node[op];
  const here = [...at, op];
  switch (op) {
    case "equals":
      if (isScalar(value)) return { op, value };
      report(here, "expected a string, number, boolean or null");
      return undefined;
    case "in":
      if (!Array.isArray(value) || value.length === 0) {
        report(here, "must be a non-empty list");
        return undefined;
      }
      if (!value.every(isScalar)) {
        report(here, "list only strings, numbers, booleans or null");
        return undefined;
      }
      return { op, values: value };
    case "exists":
      if (typeof value === "boolean") return { op, value };
      report(here, "expected true or false");
      return undefined;
    case "prefix":
      if (typeof value === "string" && value !== "") return { op, value };
      report(here, "expected a non-empty string");
      return undefined;
  }
}

/** A list of filters (an `all:`/`any:` group or the top-level list). */
function list(value: unknown, at: Path, report: Report): DeliveryFilter[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    report(at, "must be a non-empty list");
    return undefined;
  }
  const parsed = value.map((item, i) => node(item, [...at, i], report));
  return parsed.every((f): f is DeliveryFilter => f !== undefined) ? parsed : undefined;
}

function node(value: unknown, at: Path, report: Report): DeliveryFilter | undefined {
  if (Array.isArray(value)) {
    const of = list(value, at, report);
    return of === undefined ? undefined : { kind: "all", of };
  }
  if (!isRecord(value)) {
    report(at, "expected a match ({json or header, and one operator}), a list, or all/any/not");
    return undefined;
  }
  const keys = Object.keys(value);
  const groups = GROUPS.filter((k) => k in value);
  if (groups.length > 0) {
    if (keys.length > 1) {
      report(
        at,
        `${groups[0]} stands alone: move ${keys.filter((k) => k !== groups[0]).join(", ")} inside it`,
      );
      return undefined;
    }
    const group = groups[0] as (typeof GROUPS)[number];
    if (group === "not") {
      const of = node(value.not, [...at, "not"], report);
      return of === undefined ? undefined : { kind: "not", of };
    }
    const of = list(value[group], [...at, group], report);
    return of === undefined ? undefined : { kind: group, of };
  }
  let ok = true;
  for (const key of keys) {
    if (!(SOURCES as readonly string[]).includes(key) && !(OPERATORS as readonly string[]).includes(key)) {
      report([...at, key], "unknown key");
      ok = false;
    }
  }
  const s = source(value, at, report);
  const t = test(value, at, report);
  return ok && s !== undefined && t !== undefined
    ? { kind: "match", match: { source: s, test: t } }
    : undefined;
}

/** `filter:` as written, into the route's `DeliveryFilter`. */
export const filterSchema = z.unknown().transform((value, ctx): DeliveryFilter => {
  let failed = false;
  const parsed = node(value, [], (path, message) => {
    failed = true;
    ctx.addIssue({ code: "custom", path, message, input: value });
  });
  return failed || parsed === undefined ? z.NEVER : parsed;
});
