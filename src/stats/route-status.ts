/**
 * One route's line in /stats `routes[]`: its delivery gate (breaker or operator pause, else
 * `throttled` while its upstream asked to slow down), its rate limit and what that holds back.
 */
import type { RouteConfig } from "../config/types.js";
import type { BreakerState } from "../deliver/breaker.js";
import type { ThrottleStatus } from "../deliver/route-limiter.js";

export interface RouteStatusSources {
  breaker(name: string): BreakerState | null;
  throttle(name: string): (ThrottleStatus & { held: number }) | null;
  pending(name: string): number;
  /** Events of the route stored as `filtered` now. */
  filtered(name: string): number;
}

export function routeStatus(route: RouteConfig, src: RouteStatusSources) {
  const b = src.breaker(route.name);
  const t = src.throttle(route.name);
  const gate = b?.state ?? "active";
  return {
    name: route.name,
    // A closed gate says more than a throttle: paused or open wins.
    state: gate === "active" && t?.throttled ? ("throttled" as const) : gate,
    disabled: b?.disabled ?? null,
    pending: src.pending(route.name),
    filtered: src.filtered(route.name),
    throttle: t?.throttled ? { since: t.since, until: t.until, why: t.why } : null,
    rate_limit: {
      rate: t?.rate ?? null,
      burst: t?.burst ?? null,
      current_per_second: t?.currentPerSecond ?? null,
      throttled: t?.held ?? 0,
    },
  };
}

export type RouteStatusLine = ReturnType<typeof routeStatus>;
