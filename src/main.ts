import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { createAlerter } from "./alerts/alerter.js";
import { createDelivery } from "./app/delivery.js";
import { createListeners } from "./app/listeners.js";
import { openStorage } from "./app/storage.js";
import { watchStorage } from "./app/storage-watch.js";
import { type Clock, systemClock } from "./clock.js";
import { type Config, ConfigError, type ConfigIssue, configWarnings } from "./config/index.js";
import type { DeliveryHooks } from "./deliver/deliverer.js";
import { fanOutHooks } from "./observers.js";
import { createMetrics } from "./stats/metrics.js";
import type { Tracing } from "./tracing/index.js";
import { createVerifier, type Verifier } from "./verify/index.js";

export { StartupError } from "./app/startup-error.js";

export interface StartOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** The compiled delivery-thread entry (tests running from src/ point this at dist/). */
  sendThreadScript?: URL;
}

export interface Running {
  /** Where the ingest listener is bound (port resolved when 0 was asked for). */
  ingest: AddressInfo;
  admin: AddressInfo;
  /** Graceful stop: stop accepting, flush, drain in-flight deliveries, release leases, close. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The composition root, in the order of docs/architecture.md#source-map: storage (database,
 * writer, queue counts), what watches it, delivery, the observers (alerts, metrics), then the
 * listeners. Stops in reverse.
 */
export async function start(options: StartOptions): Promise<Running> {
  const { config, log, clock = systemClock } = options;
  // Before the database is opened: a secret that cannot work is a config error, and nothing is held.
  const verifiers = createVerifiers(config.routes, clock);
  // Loaded only when configured: with tracing off the OpenTelemetry SDK is never imported.
  const tracing: Tracing | null = config.tracing
    ? await (await import("./tracing/index.js")).startTracing(config.tracing, log)
    : null;

  const storage = await openStorage(config, log, clock);
  const alerter = createAlerter({
    alerts: config.alerts,
    now: clock.now,
    log,
    oldestOpenReceivedAt: storage.oldestOpenReceivedAt,
    openCount: () => storage.queue.open().events,
  });
  const watch = watchStorage({ config, log, clock, storage, alerter });

  // Metrics observe the deliverer they also read from, so they join its observers once it exists.
  const observers: DeliveryHooks[] = [
    alerter.hooks,
    { outcomesStalled: (stall) => stall && watch.fsSpace.check() },
  ];
  const delivery = createDelivery({
    config,
    log,
    clock,
    storage,
    hooks: fanOutHooks(log, observers),
    tracing,
    sendThreadScript: options.sendThreadScript,
  });
  const metrics = createMetrics({
    routes: config.routes.map((r) => r.name),
    queue: delivery.queue,
    oldestOpenReceivedAt: storage.oldestOpenReceivedAt,
    route: delivery.deliverer.route,
    unrecordedOutcomes: delivery.deliverer.unrecordedOutcomes,
    shared: storage.kind === "postgres",
    now: clock.now,
  });
  observers.push(metrics.hooks);
  // /metrics counts what /stats reads back: the increments of every committed batch.
  storage.subscribe((committed) => metrics.counted(committed.counts));

  const listeners = createListeners({
    config,
    log,
    clock,
    storage,
    watch,
    delivery,
    metrics,
    verifiers,
    tracing,
  });

  let stopped: Promise<void> | undefined;
  let listening = false;
  function stop(graceMs = 10_000): Promise<void> {
    stopped ??= (async () => {
      listeners.ready = false;
      await listeners.stopIngest();
      await delivery.stop(graceMs);
      await watch.stop();
      await storage.drain();
      // After delivery stopped, so the last attempts' spans are in the export.
      await tracing?.shutdown();
      await alerter.stop();
      await listeners.stopAdmin();
      await storage.close();
      // A failed start says why in one line of its own (cli.ts); this line is for a real stop.
      if (listening) log.info("hookbuffer stopped");
    })();
    return stopped;
  }

  let bound: { ingest: AddressInfo; admin: AddressInfo };
  try {
    bound = await listeners.listen();
  } catch (err) {
    // Nothing may outlive a failed start: listeners, threads, the database and its lock.
    await stop(0);
    throw err;
  }
  delivery.start();
  alerter.start();
  watch.start();
  listening = true;
  listeners.ready = true;
  const { ingest, admin } = bound;
  log.info(
    {
      ingest: `${ingest.address}:${ingest.port}`,
      admin: `${admin.address}:${admin.port}`,
      routes: config.routes.length,
    },
    "hookbuffer listening",
  );
  for (const w of configWarnings(config)) log.warn({ route: w.route }, w.message);
  return { ingest, admin, stop };
}

/** One verifier per route with `verify:`; a key that cannot work is reported as a config error. */
function createVerifiers(routes: Config["routes"], clock: Clock): Map<string, Verifier> {
  const verifiers = new Map<string, Verifier>();
  const issues: ConfigIssue[] = [];
  routes.forEach((route, i) => {
    if (!route.verify) return;
    try {
      verifiers.set(route.name, createVerifier(route.verify, clock));
    } catch (err) {
      // The implicit default route is configured at the top level.
      const key = routes.length === 1 && route.name === "default" ? "verify" : `routes[${i}].verify`;
      const message = (err as Error).message.replace(/^verify: /, "");
      const at = /^(secrets\[\d+\]) (.*)$/.exec(message);
      const hint = route.verify.scheme === "standard-webhooks" ? " (base64, optionally after whsec_)" : "";
      issues.push(at ? { path: `${key}.${at[1]}`, message: `${at[2]}${hint}` } : { path: key, message });
    }
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return verifiers;
}
