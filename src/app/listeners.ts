import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Logger } from "pino";
import { createAdminApp } from "../admin/app.js";
import { createEventsApp } from "../admin/events-app.js";
import { createEventAdmin } from "../admin/events-service.js";
import { createMetricsApp } from "../admin/metrics-app.js";
import { createDashboardApp } from "../admin/ui/app.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config/index.js";
import { requestErrorResponse } from "../http/errors.js";
import { createIngestApp } from "../ingest/app.js";
import { applyServerLimits, listenerOptions } from "../ingest/listener-options.js";
import { createPassthrough, matchHandshake } from "../ingest/passthrough.js";
import { createIngestor, createSignatureCheck } from "../ingest/service.js";
import { createTimestampNotice } from "../ingest/timestamp-notice.js";
import type { Metrics } from "../stats/metrics.js";
import { buildStats } from "../stats/report.js";
import { storageRefusal } from "../store/space.js";
import type { Tracing } from "../tracing/index.js";
import type { Verifier } from "../verify/index.js";
import type { Delivery } from "./delivery.js";
import { StartupError } from "./startup-error.js";
import type { Storage } from "./storage.js";
import type { StorageWatch } from "./storage-watch.js";

export interface ListenersDeps {
  config: Config;
  log: Logger;
  clock: Clock;
  storage: Storage;
  watch: StorageWatch;
  delivery: Delivery;
  metrics: Metrics;
  verifiers: Map<string, Verifier>;
  tracing: Tracing | null;
}

/**
 * The two HTTP listeners: ingest (webhooks in, stored before the ack; passthrough for handshakes)
 * and admin (health, /stats, /metrics, the events API, the dashboard).
 */
export function createListeners(deps: ListenersDeps) {
  const { config, log, clock, storage, watch, delivery, metrics, tracing } = deps;
  const { commands } = storage;
  const space = storage.sqlite?.store.space ?? null;
  const ingestor = createIngestor({
    commands,
    queue: storage.queue,
    clock,
    log,
    limits: config.storage,
    verifiers: deps.verifiers,
    onStored: delivery.deliverer.wakeForNew,
    storageLost: watch.identity.problem,
    noticeTimestamps: createTimestampNotice(log),
    // A real disk full is refused like the size cap (docs/reliability.md#storage-faults).
    storageRefusal: (incoming) =>
      watch.fsSpace.refusal() ??
      (config.storage.maxDbSize !== null && space !== null ? storageRefusal(space.usage(), incoming) : null),
    onStorageFull: () => {
      watch.fsSpace.check();
      watch.pruner.relieve();
    },
  });
  // The ingest span sits inside the metrics' timing: the ingestor needs the span's context to store.
  const accept = metrics.observeIngest(tracing ? tracing.observeIngest(ingestor) : ingestor);
  const ingestApp = createIngestApp({
    routes: config.routes,
    accept,
    bodyLimit: config.listen.bodyLimitBytes,
    maxHeaders: config.listen.maxHeaders,
    matchHandshake,
    passthrough: createPassthrough({
      upstreams: delivery.upstreams,
      log,
      checkSignature: createSignatureCheck({ verifiers: deps.verifiers, commands, clock, log }),
    }),
    reportError: (err, request) => log.error({ err, ...request }, "ingest request failed unexpectedly"),
  });

  let ready = false;
  const routeNames = config.routes.map((r) => r.name);
  const deliveries = () => routeNames.flatMap((name) => delivery.deliverer.route(name) ?? []);
  const adminApp = createAdminApp({
    token: config.admin.token,
    allowedHosts: config.admin.allowedHosts,
    bindHost: config.admin.host,
    now: clock.now,
    routeNames,
    ready: () => ready,
    unready: watch.identity.problem,
    mount: [
      createMetricsApp({ registry: metrics.registry, current: storage.current }),
      createEventsApp(
        createEventAdmin({
          current: storage.current,
          reads: storage.eventReads(delivery.deliverer),
          commands,
          queue: delivery.queue,
          deliverer: delivery.deliverer,
          clock,
          routeNames,
          redeliverMax: config.admin.redeliverMax,
        }),
      ),
    ],
    stats: async (q) => {
      // On a shared store, what the other replicas did a moment ago is in the answer.
      await storage.current();
      return buildStats(
        {
          stats: storage.stats,
          oldestOpenReceivedAt: storage.oldestOpenReceivedAt,
          queue: delivery.queue,
          clock,
          routes: deliveries,
        },
        q,
      );
    },
    reportError: (err, request) => log.error({ err, ...request }, "admin request failed unexpectedly"),
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

  return {
    /** Binds both listeners; a port that cannot be had is a StartupError naming its key. */
    async listen(): Promise<{ ingest: AddressInfo; admin: AddressInfo }> {
      const ingest = await listen(ingestServer, config.listen.port, config.listen.host, "listen.port");
      const admin = await listen(adminServer, config.admin.port, config.admin.host, "admin.port");
      return { ingest, admin };
    },
    /** /ready answers 200 from now on (false: 503 again, as when stopping). */
    set ready(value: boolean) {
      ready = value;
    },
    /** Stops taking webhooks (first thing on stop). */
    stopIngest: () => close(ingestServer),
    /** Closes the admin listener (last, so /stats and /metrics answer while stopping). */
    stopAdmin: () => close(adminServer),
  };
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
