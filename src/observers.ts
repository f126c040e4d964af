import type { Logger } from "pino";
import type { DeliveryHooks } from "./deliver/deliverer.js";

/**
 * Fans delivery hooks out to several observers (metrics, alerts), read at each call, so an observer
 * may join after the deliverer exists. Hooks run inside the writer's after-commit callbacks, so an
 * observer's bug is logged here and never reaches delivery.
 */
export function fanOutHooks(log: Logger, observers: readonly DeliveryHooks[]): DeliveryHooks {
  const guard = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      log.error({ err }, `delivery ${what} observer failed`);
    }
  };
  return {
    attempt(route, event, result, update) {
      for (const o of observers)
        if (o.attempt) guard("attempt", () => o.attempt?.(route, event, result, update));
    },
    gate(route, before, after) {
      for (const o of observers) if (o.gate) guard("gate", () => o.gate?.(route, before, after));
    },
    throttle(route, status, started) {
      for (const o of observers)
        if (o.throttle) guard("throttle", () => o.throttle?.(route, status, started));
    },
    outcomesStalled(stall) {
      for (const o of observers) if (o.outcomesStalled) guard("stall", () => o.outcomesStalled?.(stall));
    },
  };
}
