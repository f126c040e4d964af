/**
 * An event filter as PostgreSQL SQL: the same terms, and the same answers, as the SQLite store's
 * (src/store/event-filter.ts). Every value the operator typed, JSON pointers included, is a bind
 * parameter; only fixed SQL is written into the text.
 */
import { type EventFilter, jsonPath, NUMBER, type TextMatch, VERBATIM } from "../event-filter.js";
import { NOW_MS } from "./events.js";

/** Bind parameters by position: `bind(v)` appends `v` and answers its placeholder (`$n`). */
export function binder(params: unknown[]) {
  return (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
}

/** The filter's SQL over `events e`: a join when the body is read as JSON, and WHERE terms. */
export interface PgFilterSql {
  /** Joined after `FROM events e` (empty, or the parsed body as `d.doc`). */
  join: string;
  terms: string[];
  params: unknown[];
}

/**
 * A pending row whose lease has not run out is being delivered: exactly the rows a claim passes
 * over (src/store/postgres/claims.ts takes a row once `lease_until < now`).
 */
export const LEASED = `(e.status = 'pending' AND e.lease_until >= ${NOW_MS})`;

/** The status an operator sees: a leased pending row reads `delivering`. */
export const SHOWN_STATUS = `CASE WHEN ${LEASED} THEN 'delivering' ELSE e.status END`;

/** `expr` starts with the bound text (characters, as SQLite's substr compares). */
const startsWith = (expr: string, p: string) => `starts_with(${expr}, ${p})`;

/** The JSON pointer's value in the parsed body, or NULL when absent or not reachable. */
function pointerValue(pointer: string, bind: (v: unknown) => string): string {
  // strict: a key on an array or an index on an object finds nothing (lax mode would unwrap), as
  // in SQLite's JSON path; silent: that "nothing" is NULL, not an error.
  return `jsonb_path_query_first(d.doc, ${bind(`strict ${jsonPath(pointer)}`)}::jsonpath, '{}'::jsonb, true)`;
}

/**
 * How SQLite's `->>` value compares, for JSON scalars: a string as its text, a number by value, a
 * boolean as 1 or 0. An object or array (which SQLite compares as its JSON text) matches only
 * `exists` here: PostgreSQL prints JSON differently, so its text is not SQLite's.
 */
function jsonTerm(v: string, match: TextMatch, bind: (v: unknown) => string): string {
  if (match.op === "exists") return `jsonb_typeof(${v}) <> 'null'`;
  const text = `(jsonb_typeof(${v}) = 'string' AND ${v} #>> '{}'`;
  if (match.op === "prefix")
    return `${text} IS NOT NULL AND ${startsWith(`${v} #>> '{}'`, bind(match.value))})`;
  const value = match.value;
  const alt = NUMBER.test(value) ? value : value === "true" ? "1" : value === "false" ? "0" : null;
  const equals = `${text} = ${bind(value)})`;
  if (alt === null) return equals;
  const asNumber = `CASE jsonb_typeof(${v}) WHEN 'number' THEN (${v})::numeric
    WHEN 'boolean' THEN CASE WHEN ${v} = 'true'::jsonb THEN 1 ELSE 0 END END`;
  return `(${equals} OR ${asNumber} = ${bind(alt)}::numeric)`;
}

/** WHERE terms for the filters present, over `events e`; pure, so tests can read the SQL. */
export function pgFilterSql(f: EventFilter, params: unknown[] = []): PgFilterSql {
  const bind = binder(params);
  const terms: string[] = [];
  const add = (term: (p: string) => string, value: string | number | null | undefined) => {
    if (value !== null && value !== undefined) terms.push(term(bind(value)));
  };
  if (f.status === "delivering") terms.push(LEASED);
  else if (f.status === "pending")
    terms.push(`e.status = 'pending' AND (e.lease_until IS NULL OR e.lease_until < ${NOW_MS})`);
  else add((p) => `e.status = ${p}`, f.status);
  add((p) => `e.route = ${p}`, f.route);
  add((p) => `e.last_reason = ${p}`, f.reason);
  add((p) => `e.received_at >= ${p}`, f.since);
  add((p) => `e.received_at < ${p}`, f.until);
  add((p) => `e.attempts >= ${p}`, f.minAttempts);
  add((p) => `e.attempts <= ${p}`, f.maxAttempts);
  add((p) => `e.last_status = ${p}`, f.lastStatus);
  if (f.seqs) terms.push(`e.seq = ANY(${bind(f.seqs)}::bigint[])`);
  if (f.path && f.path.op !== "exists") {
    const p = bind(f.path.value);
    terms.push(f.path.op === "equals" ? `e.path = ${p}` : startsWith("e.path", p));
  }
  for (const j of f.json ?? []) {
    // As in SQLite: a byte search first, so a body without the value is never parsed.
    if (j.match.op !== "exists" && VERBATIM.test(j.match.value) && !NUMBER.test(j.match.value)) {
      terms.push(`position(${bind(Buffer.from(j.match.value))}::bytea in e.body) > 0`);
    }
    terms.push(jsonTerm(pointerValue(j.pointer, bind), j.match, bind));
  }
  for (const h of f.headers ?? []) {
    // lower() under "C" folds ASCII only, as SQLite's lower() does.
    let value = "";
    if (h.match.op === "equals") value = ` AND hv.v ->> 1 = ${bind(h.match.value)}`;
    else if (h.match.op === "prefix") value = ` AND ${startsWith("hv.v ->> 1", bind(h.match.value))}`;
    terms.push(
      `EXISTS (SELECT 1 FROM json_array_elements(e.headers::json) AS hv(v)
        WHERE lower((hv.v ->> 0) COLLATE "C") = ${bind(h.name)}${value})`,
    );
  }
  // The body parsed once per row, and only for rows the cheaper terms let through.
  const join =
    (f.json?.length ?? 0) > 0
      ? "CROSS JOIN LATERAL (SELECT hookbuffer_try_jsonb(e.body) AS doc OFFSET 0) d"
      : "";
  return { join, terms, params };
}
