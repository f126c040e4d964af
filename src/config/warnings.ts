/**
 * Settings that are valid but risky, reported once at start-up (as warnings, not errors: a
 * firewall or a private network may make them safe).
 */
import { isLoopback } from "./schema-sections.js";
import type { Config } from "./types.js";

export interface ConfigWarning {
  route: string;
  message: string;
}

/**
 * A route without `verify:` on a listener other machines can reach stores and delivers anything
 * posted to it; if the bot answers such junk with failures that `breaker.count` counts, junk alone
 * can open the route's breaker and hold real events back (README, "Circuit breaker").
 */
export function configWarnings(config: Pick<Config, "listen" | "routes">): ConfigWarning[] {
  if (isLoopback(config.listen.host)) return [];
  return config.routes
    .filter((r) => r.verify === null && r.breaker.failures > 0)
    .map((r) => ({
      route: r.name,
      message: `route "${r.name}" accepts unsigned requests on ${config.listen.host}: failed deliveries of junk count toward its circuit breaker (counted: ${r.breaker.count.join(", ")}); set verify:, or leave 4xx out of delivery.breaker.count`,
    }));
}
