import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Config, RouteConfig } from "../config/types.js";
import { firstAttemptAt } from "../deliver/backoff.js";
import type { IdFactory } from "../ids.js";
import type { CapturedRequest } from "../model.js";
import type { QueueGauges } from "../stats/gauges.js";
import type { Store, Writer } from "../store/index.js";
import type { Verifier } from "../verify/index.js";
import { dedupKey, headerGetter, lazyJson, orderKey } from "./keys.js";

export type IngestResult =
  | { kind: "accepted"; id: string }
  | { kind: "duplicate"; id: string }
  | { kind: "rejected"; code: string; message: string }
  | { kind: "backpressure"; message: string }
  | { kind: "unavailable"; message: string };

export interface IngestDeps {
  store: Store;
  writer: Writer;
  gauges: QueueGauges;
  clock: Clock;
  ids: IdFactory;
  log: Logger;
  limits: Pick<Config["storage"], "maxPending" | "maxBytes">;
  /** Verifier per route name, for routes with `verify:`. */
  verifiers: Map<string, Verifier>;
  /** Called after new events are committed (wakes the deliverer). */
  onStored: () => void;
}

/**
 * Turns a captured request into a stored event: verify, backpressure, dedup, then one op on the
 * group-commit writer. Resolves only after the commit, so "accepted" means durable.
 */
export function createIngestor(deps: IngestDeps) {
  const { store, writer, gauges, clock, log } = deps;
  let backpressureEpisode = false;

  function overLimit(incomingBytes: number): string | null {
    const open = gauges.get(null);
    const { maxPending, maxBytes } = deps.limits;
    if (maxPending !== null && open.pending + open.delivering >= maxPending) {
      return `queue holds ${open.pending + open.delivering} undelivered events (storage.max_pending ${maxPending})`;
    }
    if (maxBytes !== null && open.openBytes + incomingBytes > maxBytes) {
      return `queue holds ${open.openBytes} bytes of undelivered bodies (storage.max_bytes ${maxBytes})`;
    }
    return null;
  }

  async function count(route: string, metric: string): Promise<void> {
    const at = clock.now();
    await writer.run((ctx) => ctx.count(at, route, metric)).catch(() => undefined);
  }

  return async function accept(route: RouteConfig, req: CapturedRequest): Promise<IngestResult> {
    const header = headerGetter(req.headers);
    const verifier = deps.verifiers.get(route.name);
    if (verifier) {
      const outcome = verifier(header, req.body);
      if (!outcome.ok) {
        void count(route.name, "rejected");
        return { kind: "rejected", code: outcome.code, message: outcome.message };
      }
    }

    const full = overLimit(req.body.length);
    if (full !== null) {
      if (!backpressureEpisode)
        log.warn({ route: route.name, reason: full }, "backpressure: refusing new webhooks");
      backpressureEpisode = true;
      void count(route.name, "rejected_backpressure");
      return { kind: "backpressure", message: full };
    }
    if (backpressureEpisode) log.info("backpressure over: accepting webhooks again");
    backpressureEpisode = false;

    const json = lazyJson(req.body);
    const dedup = route.dedup ? dedupKey(route.dedup.source, header, json) : null;
    const order = orderKey(route.ordering, json);
    try {
      return await writer.run((ctx) => {
        const now = clock.now();
        if (dedup !== null) {
          const original = store.dedup.find(route.name, dedup, now);
          if (original !== undefined) {
            ctx.count(now, route.name, "duplicate");
            return { kind: "duplicate", id: original } as const;
          }
        }
        const id = deps.ids(now);
        store.events.insert({
          id,
          route: route.name,
          receivedAt: now,
          method: req.method,
          path: req.path,
          query: req.query,
          headers: req.headers,
          body: req.body,
          dedupKey: dedup,
          orderKey: order,
          nextAttemptAt: firstAttemptAt(route.retry, now),
        });
        if (dedup !== null && route.dedup) store.dedup.put(route.name, dedup, id, now + route.dedup.windowMs);
        ctx.count(now, route.name, "received");
        ctx.afterCommit(() => gauges.add(route.name, "pending", req.body.length));
        return { kind: "accepted", id } as const;
      });
    } catch (err) {
      log.error({ err, route: route.name }, "could not store webhook; answering 503");
      return { kind: "unavailable", message: "the webhook could not be stored; retry later" };
    } finally {
      deps.onStored();
    }
  };
}

export type Ingestor = ReturnType<typeof createIngestor>;
