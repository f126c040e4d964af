import { Hono } from "hono";
import { apiError, createErrorRenderer, renderNotFound, type UnexpectedErrorReport } from "../http/errors.js";
import type { StatsQuery, StatsReport } from "../stats/report.js";
import { defaultBucketMs, MAX_POINTS } from "../stats/report.js";
import { bearerAuth } from "./auth.js";
import { adminBodyLimit, crossSiteGuard, hostGuard } from "./guard.js";

export interface AdminAppDeps {
  token: string | null;
  /** `admin.allowed_hosts` and `admin.host`, for the Host check (see guard.ts). */
  allowedHosts?: string[];
  bindHost?: string;
  now: () => number;
  stats: (q: StatsQuery) => Promise<StatsReport>;
  /** Route names, to validate `?route=`. */
  routeNames: string[];
  /** False while starting or stopping. */
  ready: () => boolean;
  /** Why the instance is unready although running (e.g. its database file was removed), or null. */
  unready?: () => string | null;
  /** Further sub-apps mounted at the root (events API, metrics, dashboard). */
  mount?: Array<Hono>;
  /** Where an unexpected error goes; the caller gets a bare 500. */
  reportError?: UnexpectedErrorReport;
}

/** The range a JavaScript Date can hold (about 275,000 years either side of 1970). */
const MAX_TIME_MS = 8.64e15;

function parseTime(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(ms) || Math.abs(ms) > MAX_TIME_MS)
    throw apiError(
      400,
      "bad_query",
      `${name} must be an ISO time or epoch ms (up to ${MAX_TIME_MS}), got ${value}`,
    );
  return ms;
}

function parseBucket(value: string | undefined, windowMs: number): number {
  if (value === undefined || value === "") return defaultBucketMs(windowMs);
  const m = /^(\d+)(m|h|d)$/.exec(value);
  const minutes = m ? Number(m[1]) * { m: 1, h: 60, d: 1440 }[m[2] as "m" | "h" | "d"] : Number.NaN;
  if (!(minutes >= 1)) throw apiError(400, "bad_query", `bucket must be like 1m, 5m, 1h or 1d, got ${value}`);
  const points = Math.ceil(windowMs / (minutes * 60_000));
  if (points > MAX_POINTS) {
    throw apiError(
      400,
      "bad_query",
      `bucket ${value} gives ${points} points over this window; at most ${MAX_POINTS} points per request (use a wider bucket, a shorter window, or leave bucket out to have one chosen)`,
    );
  }
  return minutes * 60_000;
}

/** The operator-facing listener: health, stats and whatever sub-apps are mounted. */
export function createAdminApp(deps: AdminAppDeps): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // Order: who may ask (Host), how much (body), who asks (token), from where and how (browser).
  app.use(
    "*",
    hostGuard({
      allowedHosts: deps.allowedHosts ?? [],
      bindHost: deps.bindHost ?? "127.0.0.1",
      tokenSet: deps.token !== null,
    }),
  );
  app.use("*", adminBodyLimit());
  app.use("*", bearerAuth(deps.token));
  app.use("*", crossSiteGuard());
  app.get("/readyz", (c) => {
    if (!deps.ready()) return c.json({ status: "not ready" }, 503);
    const reason = deps.unready?.() ?? null;
    return reason === null ? c.json({ status: "ready" }) : c.json({ status: "not ready", reason }, 503);
  });

  app.get("/stats", async (c) => {
    const now = deps.now();
    const to = parseTime(c.req.query("to"), "to", now);
    const from = parseTime(c.req.query("from"), "from", to - 86_400_000);
    if (from >= to) throw apiError(400, "bad_query", "from must be before to");
    const route = c.req.query("route") || null;
    if (route !== null && !deps.routeNames.includes(route))
      throw apiError(404, "no_route", `no route named ${route}`);
    const bucketMs = parseBucket(c.req.query("bucket"), to - from);
    return c.json(await deps.stats({ from, to, route, bucketMs }));
  });

  for (const sub of deps.mount ?? []) app.route("/", sub);

  app.notFound(renderNotFound);
  app.onError(createErrorRenderer(deps.reportError));
  return app;
}
