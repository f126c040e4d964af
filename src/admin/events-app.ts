import { Hono } from "hono";
import { type EventStatus, EventStatuses, type Reason, Reasons } from "../model.js";
import type { EventFilter } from "../store/index.js";
import { apiError } from "./app.js";
import { eventDetailJson, eventJson, routeJson } from "./event-json.js";
import type { ChangeResult, EventAdmin } from "./events-service.js";

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
const BULK_KEYS = new Set(["status", "route", "reason", "since", "until"]);

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
  };
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

/** The events and routes admin API (DESIGN §6), mounted into the admin app behind its bearer auth. */
export function createEventsApp(admin: EventAdmin): Hono {
  const app = new Hono();

  app.get("/events", (c) => {
    const filter = parseFilter(c.req.query(), admin, "bad_query");
    const { cursor, limit } = parsePage(c.req.query("cursor"), c.req.query("limit"));
    const page = admin.list(filter, cursor, limit);
    return c.json({
      events: page.events.map(eventJson),
      next_cursor: page.nextCursor === null ? null : String(page.nextCursor),
    });
  });

  app.post("/events/redeliver", async (c) => {
    const body = await jsonBody(c.req);
    const extra = Object.keys(body).filter((k) => !BULK_KEYS.has(k));
    if (extra.length > 0) throw apiError(400, "bad_body", `unknown field(s): ${extra.join(", ")}`);
    const filter = parseFilter(body, admin, "bad_body");
    const { status } = filter;
    if (status !== "dead" && status !== "delivered") {
      throw apiError(400, "bad_body", "status is required and must be dead or delivered");
    }
    return c.json({ count: await admin.redeliverMany({ ...filter, status }) });
  });

  app.get("/events/:id", (c) => {
    const id = c.req.param("id");
    const withBody = ["1", "true"].includes(c.req.query("body") ?? "");
    const found = admin.get(id, withBody);
    if (!found) throw apiError(404, "no_event", `no event with id ${id}`);
    return c.json(eventDetailJson(found.event, found.attempts));
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

  app.get("/routes", (c) => c.json({ routes: admin.routes().map(routeJson) }));

  for (const [action, state] of [
    ["pause", "paused"],
    ["resume", "active"],
  ] as const) {
    app.post(`/routes/:name/${action}`, async (c) => {
      const name = c.req.param("name");
      const route = await admin.setRouteState(name, state);
      if (!route) throw apiError(404, "no_route", `no route named ${name}`);
      return c.json(route);
    });
  }

  return app;
}
