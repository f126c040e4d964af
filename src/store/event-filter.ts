/**
 * The SQL for an event filter: every term an operator can search by, and the JSON-pointer
 * expression that search and the configured expression indexes share (they must match exactly
 * for SQLite to use the index).
 */
import { createHash } from "node:crypto";
import { pointerNeedsEscapes } from "../json-pointer.js";
import type { EventStatus, Reason } from "../model.js";

/** How a text value is matched: exactly, by its start, or only that it is there. */
export type TextMatch = { op: "equals"; value: string } | { op: "prefix"; value: string } | { op: "exists" };

/** A JSON pointer into the body and how its value must match. */
export interface JsonMatch {
  pointer: string;
  match: TextMatch;
}

/** A request header (name lower case) and how one of its values must match. */
export interface HeaderMatch {
  name: string;
  match: TextMatch;
}

/** Which events an operator means; null or absent fields do not filter. */
export interface EventFilter {
  status: EventStatus | null;
  route: string | null;
  /** The last attempt's reason (`last_reason`). */
  reason: Reason | null;
  /** received_at >= since, epoch ms. */
  since: number | null;
  /** received_at < until, epoch ms. */
  until: number | null;
  /** Only these seqs (the deliverer's leases, for status=delivering), or all. */
  seqs?: number[];
  /** Every one must match. */
  json?: JsonMatch[];
  /** Every one must match. */
  headers?: HeaderMatch[];
  /** The stored request path (equals or prefix). */
  path?: TextMatch | null;
  /** Completed attempts, inclusive bounds. */
  minAttempts?: number | null;
  maxAttempts?: number | null;
  /** The last attempt's response status. */
  lastStatus?: number | null;
}

export type Bound = Record<string, string | number | Buffer>;

/** A SQL string literal. */
export const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * A JSON pointer as an SQLite JSON path: all-digit tokens are array indexes, every other token
 * an object key. Throws for a token SQLite's path syntax cannot hold.
 */
export function jsonPath(pointer: string): string {
  if (!pointer.startsWith("/")) throw new RangeError('a JSON pointer starts with "/"');
  let path = "$";
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^(0|[1-9][0-9]{0,8})$/.test(token)) path += `[${token}]`;
    else if (pointerNeedsEscapes(token)) {
      throw new RangeError(
        `JSON pointer token ${JSON.stringify(token)} holds a quote, backslash or control character`,
      );
    } else path += `."${token}"`;
  }
  return path;
}

const BODY_TEXT = "CAST(body AS TEXT)";

/**
 * The value at a pointer as SQL (text, number, 0/1 for booleans; NULL when absent, JSON null or
 * the body is not JSON). The expression indexes are built on exactly this expression.
 */
export function jsonExpr(pointer: string): string {
  return `(CASE WHEN json_valid(${BODY_TEXT}) THEN ${BODY_TEXT} ->> ${sqlString(jsonPath(pointer))} END)`;
}

/** The name of a route's expression index on a pointer (stable across restarts). */
export function jsonIndexName(route: string, pointer: string): string {
  const hash = createHash("sha256").update(`${route}\n${pointer}`).digest("hex").slice(0, 12);
  return `events_json_${route.replace(/[^a-z0-9_]/g, "_")}_${hash}`;
}

export const JSON_INDEX_PREFIX = "events_json_";

export const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * Characters JSON never needs to escape (no quotes, backslashes, slashes or non-ASCII): a string
 * value made only of these appears in the raw body byte for byte. Senders may still escape them
 * as \uXXXX; none of the providers hookbuffer fronts does.
 */
export const VERBATIM = /^[A-Za-z0-9 _.:@+-]{3,}$/;

/** `substr` compares characters, as the operator typed them, not bytes. */
const startsWith = (expr: string, p: string) => `substr(${expr}, 1, length(@${p})) = @${p}`;

/**
 * WHERE terms for the filters present. Values are bound; the route is written as a literal when a
 * JSON term is present, so SQLite can use a route's partial expression index.
 */
export function filterTerms(f: EventFilter): { terms: string[]; params: Bound } {
  const terms: string[] = [];
  const params: Bound = {};
  const add = (term: string, name: string, value: string | number | null | undefined) => {
    if (value === null || value === undefined) return;
    terms.push(term);
    params[name] = value;
  };
  add("status = @status", "status", f.status);
  if (f.route !== null && (f.json?.length ?? 0) > 0) terms.push(`route = ${sqlString(f.route)}`);
  else add("route = @route", "route", f.route);
  add("last_reason = @reason", "reason", f.reason);
  add("received_at >= @since", "since", f.since);
  add("received_at < @until", "until", f.until);
  add("attempts >= @minAttempts", "minAttempts", f.minAttempts);
  add("attempts <= @maxAttempts", "maxAttempts", f.maxAttempts);
  add("last_status = @lastStatus", "lastStatus", f.lastStatus);
  if (f.seqs) add("seq IN (SELECT value FROM json_each(@seqs))", "seqs", JSON.stringify(f.seqs));
  if (f.path && f.path.op !== "exists") {
    params.path = f.path.value;
    terms.push(f.path.op === "equals" ? "path = @path" : startsWith("path", "path"));
  }
  f.json?.forEach((j, i) => {
    const expr = jsonExpr(j.pointer);
    const p = `j${i}`;
    const m = j.match;
    // A byte search first: a row whose body lacks the value is skipped without parsing its JSON.
    const prefilter = (value: string) => {
      if (!VERBATIM.test(value) || NUMBER.test(value)) return;
      params[`${p}raw`] = Buffer.from(value);
      terms.push(`instr(body, @${p}raw) > 0`);
    };
    if (m.op === "exists") {
      terms.push(`${expr} IS NOT NULL`);
    } else if (m.op === "prefix") {
      prefilter(m.value);
      // The range lets an expression index seek; substr makes the match exact.
      params[p] = m.value;
      params[`${p}hi`] = `${m.value}\u{10ffff}`;
      terms.push(`${expr} >= @${p} AND ${expr} < @${p}hi AND ${startsWith(expr, p)}`);
    } else {
      prefilter(m.value);
      params[p] = m.value;
      // ->> gives numbers as numbers and booleans as 1/0: `:42` or `:true` must find those too.
      const alt = NUMBER.test(m.value)
        ? Number(m.value)
        : m.value === "true"
          ? 1
          : m.value === "false"
            ? 0
            : null;
      if (alt === null) terms.push(`${expr} = @${p}`);
      else {
        params[`${p}n`] = alt;
        terms.push(`${expr} IN (@${p}, @${p}n)`);
      }
    }
  });
  f.headers?.forEach((h, i) => {
    const p = `h${i}`;
    params[`${p}name`] = h.name;
    let valueTerm = "";
    if (h.match.op !== "exists") {
      params[p] = h.match.value;
      valueTerm =
        h.match.op === "equals" ? ` AND hv.value ->> 1 = @${p}` : ` AND ${startsWith("hv.value ->> 1", p)}`;
    }
    terms.push(
      `EXISTS (SELECT 1 FROM json_each(headers) AS hv WHERE lower(hv.value ->> 0) = @${p}name${valueTerm})`,
    );
  });
  return { terms, params };
}
