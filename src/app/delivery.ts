import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Config } from "../config/index.js";
import { createDeliverer, type DeliveryHooks } from "../deliver/deliverer.js";
import type { Tracing } from "../tracing/index.js";
import { createInlineSender } from "../transport/sender.js";
import { createThreadSender } from "../transport/thread-sender.js";
import { createUpstream, type Upstream } from "../transport/upstream.js";
import { createResigners } from "../verify/resign.js";
import type { Storage } from "./storage.js";

/**
 * Replay: one upstream (connection pools) per route, the sender that performs attempts (on the
 * delivery thread unless it is turned off) and the deliverer that claims, sends and records.
 */
export function createDelivery(deps: {
  config: Config;
  log: Logger;
  clock: Clock;
  storage: Storage;
  hooks: DeliveryHooks;
  tracing: Tracing | null;
  /** The compiled delivery-thread entry (tests running from src/ point this at dist/). */
  sendThreadScript?: URL | undefined;
}) {
  const { config, log, clock } = deps;
  const upstreams = new Map<string, Upstream>();
  for (const route of config.routes) upstreams.set(route.name, createUpstream(route));
  // Passthrough always proxies from this thread; webhooks are replayed from the delivery thread
  // unless it is turned off, in which case both share these pools.
  const sender = config.deliveryThread
    ? createThreadSender({
        routes: config.routes,
        log,
        now: clock.now,
        ...(deps.sendThreadScript && { script: deps.sendThreadScript }),
      })
    : createInlineSender(upstreams, clock.now, createResigners(config.routes));
  const { storage } = deps;
  const deliverer = createDeliverer({
    commands: storage.commands,
    subscribe: (fn) => storage.subscribe(fn),
    claims: storage.claims,
    gates: storage.gates,
    countDue: storage.countDue,
    routes: config.routes,
    sender,
    clock,
    log,
    hooks: deps.hooks,
    ...(deps.tracing && { tracing: deps.tracing.attempts }),
  });
  return {
    deliverer,
    upstreams,
    /** Stored queue depth of a route (all for null), with its leased events shown as delivering. */
    queue(route: string | null) {
      return storage.queue.get(route, deliverer.leased(route));
    },
    start(): void {
      deliverer.start();
      storage.start({ stored: deliverer.wakeForNew, changed: deliverer.wake });
    },
    /** Lets in-flight attempts finish for up to `graceMs`, then closes the upstreams. */
    async stop(graceMs: number): Promise<void> {
      storage.commands.flush();
      await deliverer.stop(graceMs);
      await Promise.all([...upstreams.values()].map((u) => u.close().catch(() => undefined)));
    },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
