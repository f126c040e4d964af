import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Logger } from "pino";
import { createAdminApp } from "./admin/app.js";
import { createEventsApp } from "./admin/events-app.js";
import { createEventAdmin } from "./admin/events-service.js";
import { createMetricsApp } from "./admin/metrics-app.js";
import { createDashboardApp } from "./admin/ui/app.js";
import { createAlerter } from "./alerts/alerter.js";
import { type Clock, systemClock } from "./clock.js";
import { type Config, ConfigError, type ConfigIssue, configWarnings } from "./config/index.js";
import { createDeliverer } from "./deliver/deliverer.js";
import { requestErrorResponse } from "./http/errors.js";
import { createIdFactory } from "./ids.js";
import { createIngestApp } from "./ingest/app.js";
import { applyServerLimits, listenerOptions } from "./ingest/listener-options.js";
import { createPassthrough, matchHandshake } from "./ingest/passthrough.js";
import { createIngestor, createSignatureCheck, type Ingestor } from "./ingest/service.js";
import { createTimestampNotice } from "./ingest/timestamp-notice.js";
import { fanOutHooks } from "./observers.js";
import { createQueueGauges } from "./stats/gauges.js";
import { createMetrics, type MetricsDeps } from "./stats/metrics.js";
import { buildStats } from "./stats/report.js";
import { routeStatus } from "./stats/route-status.js";
import { createFilesystemSpace } from "./store/fs-space.js";
import { createDatabaseIdentity } from "./store/identity.js";
import { createCheckpointer, createStore, createWriter, openDatabase } from "./store/index.js";
import { syncJsonIndexes } from "./store/json-indexes.js";
import { createPruner } from "./store/pruner.js";
import { storageRefusal } from "./store/space.js";
import type { Tracing } from "./tracing/index.js";
import { createInlineSender } from "./transport/sender.js";
import { createThreadSender } from "./transport/thread-sender.js";
import { createUpstream, type Upstream } from "./transport/upstream.js";
import { createVerifier, type Verifier } from "./verify/index.js";
import { createResigners } from "./verify/resign.js";

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

/** A start-up failure an operator can act on; its message is one line. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

function listen(server: Server, port: number, host: string, key: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      const why =
        err.code === "EADDRINUSE"
          ? "address already in use"
          : err.code === "EACCES"
            ? "permission denied"
            : err.message;
      reject(new StartupError(`cannot listen on ${host}:${port} (${key}): ${why}`, { cause: err }));
    });
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** The composition root: config -> store -> apps -> listeners -> deliverer. */
export async function start(options: StartOptions): Promise<Running> {
  const { config, log, clock = systemClock } = options;
  // Before the database is opened: a secret that cannot work is a config error, and nothing is held.
  const verifiers = createVerifiers(config.routes, clock);
  // Loaded only when configured: with tracing off the OpenTelemetry SDK is never imported.
  const tracing: Tracing | null = config.tracing
    ? await (await import("./tracing/index.js")).startTracing(config.tracing, log)
    : null;
  const opened = openDatabase({
    path: config.storage.path,
    synchronous: config.storage.synchronous,
    maxDbSizeBytes: config.storage.maxDbSize,
    syncOffThread: true,
  });
  const store = createStore(opened.db);
  try {
    const indexes = syncJsonIndexes(
      opened.db,
      config.routes.flatMap((r) => r.index.map((pointer) => ({ route: r.name, pointer }))),
    );
    if (indexes.created.length + indexes.dropped.length > 0) log.info(indexes, "search indexes updated");
  } catch (err) {
    opened.close();
    throw new StartupError(`cannot build the search indexes (routes[].index): ${(err as Error).message}`, {
      cause: err,
    });
  }
  const checkpointer = createCheckpointer({
    db: opened.db,
    walPath: `${config.storage.path}-wal`,
    backgroundPath: config.storage.path,
    onError: (err) => log.warn({ err }, "WAL checkpoint failed; retrying after the next commit"),
  });
  const writer = createWriter({
    db: opened.db,
    onCommit: () => checkpointer.onCommit(),
    ...(opened.walSync ? { sync: opened.walSync.sync } : {}),
  });
  const gauges = createQueueGauges(store.events.countByStatus());
  const pruner = createPruner({
    store,
    writer,
    retention: config.storage.retention,
    now: clock.now,
    log,
    // Finished events hold no open bytes, so only the counts move.
    onRemoved: (g) => gauges.remove(g.route, g.status, 0, g.n),
  });

  const upstreams = new Map<string, Upstream>();
  for (const route of config.routes) upstreams.set(route.name, createUpstream(route));

  // Observers read deliverer state lazily, so they can be built before it.
  let routeState: (name: string) => "active" | "paused" | "open" | null = () => null;
  let routeThrottle: MetricsDeps["throttle"] = () => null;
  let unrecordedOutcomes = () => 0;
  const fsSpace = createFilesystemSpace({ dbPath: config.storage.path });
  let onDatabaseIdentity = (_problem: string | null) => {};
  const identity = createDatabaseIdentity({
    path: config.storage.path,
    onChange: (problem) => onDatabaseIdentity(problem),
  });
  const metrics = createMetrics({
    routes: config.routes.map((r) => r.name),
    queue: (name) => gauges.get(name),
    oldestOpenReceivedAt: () => store.events.oldestOpenReceivedAt(),
    routeState: (name) => routeState(name),
    throttle: (name) => routeThrottle(name),
    unrecordedOutcomes: () => unrecordedOutcomes(),
    now: clock.now,
  });
  const alerter = createAlerter({
    alerts: config.alerts,
    now: clock.now,
    log,
    oldestOpenReceivedAt: () => store.events.oldestOpenReceivedAt(),
    openCount: () => {
      const q = gauges.get(null);
      return q.pending + q.delivering;
    },
  });
  onDatabaseIdentity = (problem) => {
    // The checkpointer's own connection opens the path anew: it would create a fresh, empty file there.
    if (problem !== null) checkpointer.stop();
    if (problem !== null) log.error({ problem }, "database file removed or replaced: refusing new webhooks");
    else log.info("database file back in place: accepting webhooks");
    alerter.storage("database_missing", problem);
  };
  const hooks = fanOutHooks(log, metrics.hooks, alerter.hooks, {
    outcomesStalled: (stall) => stall && fsSpace.check(),
  });
  // Passthrough always proxies from this thread; webhooks are replayed from the delivery thread
  // unless it is turned off, in which case both share these pools.
  const sender = config.deliveryThread
    ? createThreadSender({
        routes: config.routes,
        log,
        now: clock.now,
        ...(options.sendThreadScript && { script: options.sendThreadScript }),
      })
    : createInlineSender(upstreams, clock.now, createResigners(config.routes));
  const deliverer = createDeliverer({
    store,
    writer,
    gauges,
    routes: config.routes,
    sender,
    clock,
    log,
    hooks,
    ...(tracing && { tracing: tracing.attempts }),
  });
  routeState = (name) => deliverer.routeState(name)?.state ?? null;
  routeThrottle = (name) => deliverer.throttle(name);
  const routeSources = {
    breaker: (name: string) => deliverer.routeState(name),
    throttle: (name: string) => deliverer.throttle(name),
    pending: (name: string) => gauges.get(name).pending,
    filtered: (name: string) => gauges.get(name).filtered,
  };
  unrecordedOutcomes = deliverer.unrecordedOutcomes;
  // The ingest span sits inside the metrics wrapper: the ingestor needs the span's context to store.
  const observeIngest = (ingestor: Ingestor) =>
    metrics.observeIngest(tracing ? tracing.observeIngest(ingestor) : ingestor);
  const accept = observeIngest(
    createIngestor({
      store,
      writer,
      gauges,
      clock,
      ids: createIdFactory(),
      log,
      limits: config.storage,
      verifiers,
      onStored: deliverer.wakeForNew,
      storageLost: identity.problem,
      noticeTimestamps: createTimestampNotice(log),
      // A real disk full is refused like the size cap (docs/reliability.md#storage-faults).
      storageRefusal: (incoming) =>
        fsSpace.refusal() ??
        (config.storage.maxDbSize !== null ? storageRefusal(store.space.usage(), incoming) : null),
      onStorageFull: () => {
        fsSpace.check();
        pruner.relieve();
      },
    }),
  );
  const ingestApp = createIngestApp({
    routes: config.routes,
    accept,
    bodyLimit: config.listen.bodyLimitBytes,
    maxHeaders: config.listen.maxHeaders,
    matchHandshake,
    passthrough: createPassthrough({
      upstreams,
      log,
      checkSignature: metrics.observeSignatureCheck(createSignatureCheck({ verifiers, writer, clock, log })),
    }),
  });
  let ready = false;
  const adminApp = createAdminApp({
    token: config.admin.token,
    allowedHosts: config.admin.allowedHosts,
    bindHost: config.admin.host,
    now: clock.now,
    routeNames: config.routes.map((r) => r.name),
    ready: () => ready,
    unready: identity.problem,
    mount: [
      createMetricsApp({ registry: metrics.registry }),
      createEventsApp(
        createEventAdmin({
          store,
          writer,
          gauges,
          deliverer,
          clock,
          routeNames: config.routes.map((r) => r.name),
          redeliverMax: config.admin.redeliverMax,
        }),
      ),
    ],
    stats: (q) =>
      buildStats(
        {
          store,
          gauges,
          clock,
          routes: () => config.routes.map((r) => routeStatus(r, routeSources)),
        },
        q,
      ),
  });

  // The adapter's listener on Node's own server, so a request it cannot parse gets a JSON 400.
  const ingestServer = createServer(
    listenerOptions(config.listen),
    getRequestListener(ingestApp.fetch, { errorHandler: requestErrorResponse }),
  );
  applyServerLimits(ingestServer, config.listen);
  // The dashboard page sits in front of the admin app: /ui is public (no data), the rest is authed.
  const adminFront = createDashboardApp({ admin: adminApp });
  // The admin listener gets the same slow-client limits: with a token it may face a network too.
  const adminServer = createServer(
    listenerOptions(config.listen),
    getRequestListener(adminFront.fetch, { errorHandler: requestErrorResponse }),
  );
  applyServerLimits(adminServer, config.listen);

  let stopped: Promise<void> | undefined;
  let listening = false;
  function stop(graceMs = 10_000): Promise<void> {
    stopped ??= (async () => {
      ready = false;
      await close(ingestServer);
      writer.flush();
      await deliverer.stop(graceMs);
      await Promise.all([...upstreams.values()].map((u) => u.close().catch(() => undefined)));
      await pruner.stop();
      checkpointer.stop();
      fsSpace.stop();
      identity.stop();
      await writer.drain();
      // After delivery stopped, so the last attempts' spans are in the export.
      await tracing?.shutdown();
      await alerter.stop();
      await close(adminServer);
      opened.close();
      // A failed start says why in one line of its own (cli.ts); this line is for a real stop.
      if (listening) log.info("hookbuffer stopped");
    })();
    return stopped;
  }

  let ingest: AddressInfo;
  let admin: AddressInfo;
  try {
    ingest = await listen(ingestServer, config.listen.port, config.listen.host, "listen.port");
    admin = await listen(adminServer, config.admin.port, config.admin.host, "admin.port");
  } catch (err) {
    // Nothing may outlive a failed start: listeners, threads, the database and its lock.
    await stop(0);
    throw err;
  }
  deliverer.start();
  alerter.start();
  pruner.start();
  identity.start();
  listening = true;
  ready = true;
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
