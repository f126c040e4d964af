/**
 * Turns the validated user shape into the `Config` every module receives: builds the route list,
 * merges each route's delivery over the global block and the defaults, and runs the checks that span
 * sections. Returns problems instead of throwing so the loader can report them with the rest.
 */
import type { ConfigIssue } from "./config-error.js";
import { DEFAULT_DELIVERY, type DeliveryDefaults } from "./defaults.js";
import type { ConfigInput } from "./schema.js";
import type { DeliveryInput } from "./schema-delivery.js";
import type { RouteInput } from "./schema-route.js";
import type { Config, PassthroughMatch, RouteConfig } from "./types.js";

/** The first value that is set; unlike `??`, an explicit null (e.g. `dedup: null`) counts as set. */
function first<T>(...values: Array<T | undefined>): T | undefined {
  return values.find((value) => value !== undefined);
}

/** Per key: the route's value, else the global block's, else the default. `retry` is replaced whole. */
export function mergeDelivery(
  global: DeliveryInput | undefined,
  route: DeliveryInput | undefined,
): DeliveryDefaults {
  const d = DEFAULT_DELIVERY;
  const timeoutMs = first(route?.timeout, global?.timeout) ?? d.timeoutMs;
  const cooldownMs = first(route?.breaker?.cooldown, global?.breaker?.cooldown) ?? d.breaker.cooldownMs;
  const maxCooldownMs =
    first(route?.breaker?.max_cooldown, global?.breaker?.max_cooldown) ?? d.breaker.maxCooldownMs;
  // structuredClone: routes must not share arrays or objects another module might mutate.
  return structuredClone({
    timeoutMs,
    // A connect or DNS deadline beyond the whole attempt's deadline could never fire; clamp, as documented.
    connectTimeoutMs: Math.min(
      first(route?.connect_timeout, global?.connect_timeout) ?? d.connectTimeoutMs,
      timeoutMs,
    ),
    dnsTimeoutMs: Math.min(first(route?.dns_timeout, global?.dns_timeout) ?? d.dnsTimeoutMs, timeoutMs),
    concurrency: first(route?.concurrency, global?.concurrency) ?? d.concurrency,
    rateLimit: first(route?.rate_limit, global?.rate_limit) ?? d.rateLimit,
    retry: first(route?.retry, global?.retry) ?? d.retry,
    permanentStatuses: [...new Set(first(route?.permanent_statuses, global?.permanent_statuses) ?? [])],
    breaker: {
      failures: first(route?.breaker?.failures, global?.breaker?.failures) ?? d.breaker.failures,
      cooldownMs,
      // The cooldown doubles up to this cap; a cap below the first cooldown would shrink it instead.
      maxCooldownMs: Math.max(maxCooldownMs, cooldownMs),
      count: [...new Set(first(route?.breaker?.count, global?.breaker?.count) ?? d.breaker.count)],
    },
    ordering: first(route?.ordering, global?.ordering) ?? d.ordering,
    dedup: first(route?.dedup, global?.dedup) ?? d.dedup,
  });
}

function resolveRoute(
  input: ConfigInput,
  route: RouteInput,
  index: number,
  issues: ConfigIssue[],
): RouteConfig {
  const upstream = route.upstream ?? input.upstream;
  if (upstream === undefined) {
    issues.push({ path: `routes[${index}].upstream`, message: "required (or set a top-level upstream)" });
  }
  return {
    name: route.name,
    pathPrefix: route.path,
    upstream: upstream ?? "",
    ...mergeDelivery(input.delivery, route.delivery),
    verify: route.verify ?? null,
    ...proxying(route.passthrough, route.handshake_paths, `routes[${index}].`, issues),
    index: [...new Set(route.index ?? [])],
    http2: first(route.upstream_http2, input.upstream_http2) ?? false,
    filter: route.filter ?? null,
  };
}

/** `passthrough: false` and `handshake_paths` as the route's proxying settings. */
function proxying(
  passthrough: PassthroughMatch[] | false | undefined,
  paths: string[] | undefined,
  at: string,
  issues: ConfigIssue[],
): Pick<RouteConfig, "passthrough" | "handshakes"> {
  if (passthrough === false && paths !== undefined) {
    issues.push({ path: `${at}handshake_paths`, message: "cannot be combined with passthrough: false" });
  }
  if (passthrough === false) return { passthrough: [], handshakes: "none" };
  return { passthrough: passthrough ?? [], handshakes: paths ?? "all" };
}

function reportDuplicates(routes: RouteInput[], key: "name" | "path", issues: ConfigIssue[]): void {
  const seen = new Map<string, number>();
  routes.forEach((route, index) => {
    const earlier = seen.get(route[key]);
    if (earlier === undefined) seen.set(route[key], index);
    else
      issues.push({
        path: `routes[${index}].${key}`,
        message: `"${route[key]}" is already used by routes[${earlier}]`,
      });
  });
}

function resolveRoutes(input: ConfigInput, issues: ConfigIssue[]): RouteConfig[] {
  if (input.routes === undefined) {
    if (input.upstream === undefined) {
      issues.push({
        path: "upstream",
        message: "required (set upstream:, HOOKBUFFER_UPSTREAM or --upstream), unless routes: are listed",
      });
    }
    return [
      {
        name: "default",
        pathPrefix: "/",
        upstream: input.upstream ?? "",
        ...mergeDelivery(input.delivery, undefined),
        verify: input.verify ?? null,
        ...proxying(input.passthrough, input.handshake_paths, "", issues),
        index: [...new Set(input.index ?? [])],
        http2: input.upstream_http2 ?? false,
        filter: input.filter ?? null,
      },
    ];
  }
  // These describe the implicit default route, which does not exist once routes are listed.
  const defaultRouteOnly = {
    verify: input.verify != null,
    passthrough: input.passthrough === false || (input.passthrough?.length ?? 0) > 0,
    handshake_paths: input.handshake_paths !== undefined,
    index: (input.index?.length ?? 0) > 0,
    filter: input.filter !== undefined,
  };
  for (const [key, isSet] of Object.entries(defaultRouteOnly)) {
    if (isSet)
      issues.push({ path: key, message: "applies only without routes:; set it on each route instead" });
  }
  reportDuplicates(input.routes, "name", issues);
  reportDuplicates(input.routes, "path", issues);
  return input.routes.map((route, index) => resolveRoute(input, route, index, issues));
}

/** Both listeners on one port would fail at bind time with a less helpful EADDRINUSE. */
function checkListenerClash(config: Pick<Config, "listen" | "admin">, issues: ConfigIssue[]): void {
  const { listen, admin } = config;
  const wildcard = (host: string) => host === "0.0.0.0" || host === "::" || host === "[::]";
  const overlap = listen.host === admin.host || wildcard(listen.host) || wildcard(admin.host);
  if (listen.port !== 0 && listen.port === admin.port && overlap) {
    issues.push({ path: "admin.port", message: `clashes with listen.port (${listen.port})` });
  }
}

/** Search indexes are SQLite expression indexes; the PostgreSQL store has none (README, Several replicas). */
function checkIndexesNeedSqlite(
  config: Pick<Config, "storage" | "routes">,
  listed: boolean,
  issues: ConfigIssue[],
): void {
  if (config.storage.url === null) return;
  config.routes.forEach((route, index) => {
    if (route.index.length === 0) return;
    issues.push({
      path: listed ? `routes[${index}].index` : "index",
      message: "search indexes are SQLite only; not with storage.url",
    });
  });
}

export function resolveConfig(input: ConfigInput): { config: Config; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const config: Config = {
    listen: input.listen,
    admin: input.admin,
    storage: input.storage,
    routes: resolveRoutes(input, issues),
    deliveryThread: input.delivery_thread ?? true,
    alerts: input.alerts ?? [],
    tracing: input.tracing ?? null,
    log: input.log,
  };
  checkListenerClash(config, issues);
  checkIndexesNeedSqlite(config, input.routes !== undefined, issues);
  return { config, issues };
}
