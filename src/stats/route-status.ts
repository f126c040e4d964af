/**
 * One route's line in /stats `routes[]`: its delivery gate (breaker or operator pause, else
 * `throttled` while its upstream asked to slow down), its rate limit and what that holds back.
 */
import type { RouteDelivery } from "../model.js";
import type { QueueCounts } from "../store/index.js";

export function routeStatus(route: RouteDelivery, queue: Pick<QueueCounts, "pending" | "filtered">) {
  const t = route.throttle;
  return {
    name: route.name,
    // A closed gate says more than a throttle: paused or open wins.
    state: route.state === "active" && t.throttled ? ("throttled" as const) : route.state,
    disabled: route.disabled,
    pending: queue.pending,
    /** Events of the route stored as `filtered` now. */
    filtered: queue.filtered,
    throttle: t.throttled ? { since: t.since, until: t.until, why: t.why } : null,
    rate_limit: {
      rate: t.rate,
      burst: t.burst,
      current_per_second: t.currentPerSecond,
      throttled: t.held,
    },
  };
}

export type RouteStatusLine = ReturnType<typeof routeStatus>;
