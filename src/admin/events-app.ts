import { Hono } from "hono";
import { apiError } from "../http/errors.js";
import { type EventStatus, EventStatuses, type Reason, Reasons } from "../model.js";
import type { EventFilter } from "../store/index.js";
import { eventDetailJson, eventJson, explainJson, routeJson } from "./event-json.js";
import { type ChangeResult, DEFAULT_SCAN_BUDGET, type EventAdmin } from "./events-service.js";
import { parseHeaderTerm, parseJsonTerm, parsePathTerm, TermError } from "./search-terms.js";

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
const MAX_SCAN_BUDGET = 10_000_000;
/** Filter keys, shared by the query string and the bulk body. */
const FILTER_KEYS = [
  "status",
  "route",
  "reason",
  "since",
  "until",
  "json",
  "header",
  "path",
  "min_attempts",
  "max_attempts",
  "last_status",
];
const BULK_KEYS = new Set([...FILTER_KEYS, "dry_run", "request_id", "sample"]);
/** More body or header terms than this is a mistake, not a search. */
const MAX_TERMS = 10;

type Raw = Record<string, unknown>;

function time(value: unknown, name: string, code: string): number | null {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  const ms = typeof value !== "string" ? Number.NaN : /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(ms)) throw apiError(400, code, `${name} must be an ISO time or epoch ms`);
  return ms;
}

function oneOf<T extends string>(
  value: unknown,
  allowed: Record<T, T>,
  name: string,
  code: string,
): T | null {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value === "string" && Object.hasOwn(allowed, value)) return value as T;
  throw apiError(400, code, `${name} must be one of ${Object.keys(allowed).join(", ")}`);
}

function count(value: unknown, name: string, code: string, min: number, max: number): number | null {
  if (value === undefined || value === null || value === "") return null;
  const n =
    typeof value === "number"
      ? value
      : typeof value === "string" && /^\d{1,10}$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw apiError(400, code, `${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** A repeatable term: one string or several (`?json=a&json=b`, or an array in a body). */
function terms<T>(value: unknown, name: string, code: string, parse: (s: string) => T): T[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  if (list.length > MAX_TERMS) throw apiError(400, code, `at most ${MAX_TERMS} ${name} terms`);
  return list.map((term) => {
    if (typeof term !== "string") throw apiError(400, code, `${name} must be a string or a list of strings`);
    try {
      return parse(term);
    } catch (err) {
      if (err instanceof TermError) throw apiError(400, code, err.message);
      throw err;
    }
  });
}

/** Parses the shared filters (query string or bulk body); an unknown route is 404 as on /stats. */
function parseFilter(raw: Raw, admin: EventAdmin, code: string): EventFilter {
  const route = raw.route === undefined || raw.route === "" ? null : raw.route;
  if (route !== null && typeof route !== "string") throw apiError(400, code, "route must be a string");
  if (route !== null && !admin.isRoute(route)) throw apiError(404, "no_route", `no route named ${route}`);
  const filter: EventFilter = {
    status: oneOf<EventStatus>(raw.status, EventStatuses, "status", code),
    route,
    reason: oneOf<Reason>(raw.reason, Reasons, "reason", code),
    since: time(raw.since, "since", code),
    until: time(raw.until, "until", code),
    json: terms(raw.json, "json", code, parseJsonTerm),
    headers: terms(raw.header, "header", code, parseHeaderTerm),
    path: terms(raw.path, "path", code, parsePathTerm)[0] ?? null,
    minAttempts: count(raw.min_attempts, "min_attempts", code, 0, 1_000_000),
    maxAttempts: count(raw.max_attempts, "max_attempts", code, 0, 1_000_000),
    lastStatus: count(raw.last_status, "last_status", code, 100, 599),
  };
  if (Array.isArray(raw.path) && raw.path.length > 1) throw apiError(400, code, "give path once");
  if (filter.since !== null && filter.until !== null && filter.since >= filter.until) {
    throw apiError(400, code, "since must be before until");
  }
  return filter;
}

function parsePage(cursor: string | undefined, limit: string | undefined) {
  if (cursor !== undefined && cursor !== "" && !/^\d{1,15}$/.test(cursor)) {
    throw apiError(400, "bad_query", "cursor must be a next_cursor value from a previous page");
  }
  const n = limit === undefined || limit === "" ? DEFAULT_LIMIT : /^\d{1,4}$/.test(limit) ? Number(limit) : 0;
  if (n < 1 || n > MAX_LIMIT)
    throw apiError(400, "bad_query", `limit must be an integer from 1 to ${MAX_LIMIT}`);
  return { cursor: cursor ? Number(cursor) : null, limit: n };
}

/** Single query values as strings; repeatable ones (json, header) as lists. */
function queryOf(q: Record<string, string[]>): Raw {
  const raw: Raw = {};
  for (const [k, v] of Object.entries(q)) raw[k] = k === "json" || k === "header" || v.length > 1 ? v : v[0];
  return raw;
}

/** `Idempotency-Key` header or `request_id` field (they must agree when both are given). */
function idempotencyKey(header: string | undefined, field: unknown): string | null {
  if (
    field !== undefined &&
    field !== null &&
    (typeof field !== "string" || !/^[\x21-\x7e]{1,200}$/.test(field))
  ) {
    throw apiError(400, "bad_body", "request_id must be 1 to 200 visible ASCII characters");
  }
  if (header !== undefined && !/^[\x21-\x7e]{1,200}$/.test(header)) {
    throw apiError(400, "bad_body", "Idempotency-Key must be 1 to 200 visible ASCII characters");
  }
  const fromBody = typeof field === "string" ? field : undefined;
  if (header !== undefined && fromBody !== undefined && header !== fromBody) {
    throw apiError(400, "bad_body", "Idempotency-Key and request_id differ; give one");
  }
  return header ?? fromBody ?? null;
}

/** Maps a change on one event to the error operators see; returns only when it succeeded. */
function check(result: ChangeResult, id: string): void {
  if (result === "not_found") throw apiError(404, "no_event", `no event with id ${id}`);
  if (result === "delivering") {
    throw apiError(
      409,
      "delivering",
      `event ${id} is being delivered right now; try again when the attempt ends`,
    );
  }
}

async function jsonBody(req: { json(): Promise<unknown> }): Promise<Raw> {
  const body = await req.json().catch(() => {
    throw apiError(400, "bad_body", "the body must be a JSON object");
  });
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw apiError(400, "bad_body", "the body must be a JSON object");
  }
  return body as Raw;
}

/** The events and routes admin API (README, Admin API), mounted into the admin app behind its bearer auth. */
export function createEventsApp(admin: EventAdmin): Hono {
  const app = new Hono();

  app.get("/events", async (c) => {
    const filter = parseFilter(queryOf(c.req.queries()), admin, "bad_query");
    const { cursor, limit } = parsePage(c.req.query("cursor"), c.req.query("limit"));
    const budget =
      count(c.req.query("scan_budget"), "scan_budget", "bad_query", 1, MAX_SCAN_BUDGET) ??
      DEFAULT_SCAN_BUDGET;
    const page = await admin.list(filter, cursor, limit, budget);
    return c.json({
      events: page.events.map(eventJson),
      next_cursor: page.nextCursor === null ? null : String(page.nextCursor),
      explain: explainJson(page.explain),
    });
  });

  app.post("/events/redeliver", async (c) => {
    const body = await jsonBody(c.req);
    const extra = Object.keys(body).filter((k) => !BULK_KEYS.has(k));
    if (extra.length > 0) throw apiError(400, "bad_body", `unknown field(s): ${extra.join(", ")}`);
    if (!FILTER_KEYS.some((k) => body[k] !== undefined && body[k] !== null && body[k] !== "")) {
      throw apiError(400, "bad_body", `give at least one filter (${FILTER_KEYS.join(", ")})`);
    }
    const filter = parseFilter(body, admin, "bad_body");
    if (filter.status === "delivering") {
      throw apiError(
        400,
        "bad_body",
        "events being delivered cannot be redelivered; leave status out or pick another",
      );
    }
    if (body.dry_run !== undefined && typeof body.dry_run !== "boolean") {
      throw apiError(400, "bad_body", "dry_run must be true or false");
    }
    const requestId = idempotencyKey(c.req.header("idempotency-key"), body.request_id);
    const sample = count(body.sample, "sample", "bad_body", 0, MAX_LIMIT) ?? 20;
    const r = await admin.redeliverMatching({ filter, dryRun: body.dry_run === true, requestId, sample });
    switch (r.result) {
      case "dry_run":
        return c.json({ dry_run: true, count: r.count, ids: r.ids, max: r.max, over_max: r.count > r.max });
      case "too_many":
        throw apiError(
          422,
          "too_many",
          `${r.count} events match; one request redelivers at most ${r.max} (admin.redeliver_max): narrow the filter or raise the limit`,
        );
      case "key_reused":
        throw apiError(
          422,
          "request_id_reused",
          `request id ${requestId} was already used for a different filter; use a new id`,
        );
      case "done":
        if (r.replayed) c.header("Idempotent-Replayed", "true");
        return c.json({ count: r.count, skipped: r.skipped, request_id: r.requestId });
    }
  });

  app.get("/events/:id", async (c) => {
    const id = c.req.param("id");
    const withBody = ["1", "true"].includes(c.req.query("body") ?? "");
    const found = await admin.get(id);
    if (!found) throw apiError(404, "no_event", `no event with id ${id}`);
    return c.json(eventDetailJson(found.event, found.attempts, found.history, withBody));
  });

  app.post("/events/:id/redeliver", async (c) => {
    const id = c.req.param("id");
    check(await admin.redeliver(id), id);
    return c.json({ id, status: "pending" }, 202);
  });

  app.delete("/events/:id", async (c) => {
    const id = c.req.param("id");
    check(await admin.discard(id), id);
    return c.json({ id, discarded: true });
  });

  app.get("/routes", async (c) => c.json({ routes: (await admin.routes()).map(routeJson) }));

  for (const [action, state] of [
    ["pause", "paused"],
    ["resume", "active"],
  ] as const) {
    app.post(`/routes/:name/${action}`, async (c) => {
      const name = c.req.param("name");
      const route = await admin.setGate(name, state);
      if (!route) throw apiError(404, "no_route", `no route named ${name}`);
      return c.json(route);
    });
  }

  return app;
}
