import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Config, RouteConfig } from "../config/types.js";
import { firstAttemptAt } from "../deliver/backoff.js";
import type { CapturedRequest, StoredTrace } from "../model.js";
import type { CommandRunner, QueueCountsTracker } from "../store/index.js";
import type { Verifier } from "../verify/index.js";
import { compileFilter, type FilterPredicate } from "./filter.js";
import { nominatedFields } from "./hop-by-hop.js";
import { dedupKey, headerGetter, orderKey } from "./keys.js";
import { requestView } from "./match.js";
import { type CountRefusal, createRefusalCount } from "./refusal-count.js";
import { createRejectionLog } from "./rejection-log.js";

/** A request refused for its signature. */
export interface Rejection {
  kind: "rejected";
  code: string;
  message: string;
  /** 400 when the request is malformed rather than unauthenticated; 401 otherwise. */
  status?: 400;
}

export type IngestResult =
  /** Stored; `filtered`: the route's filter leaves it undelivered (README, Routes). */
  | { kind: "accepted"; id: string; filtered?: true }
  | { kind: "duplicate"; id: string }
  | Rejection
  | { kind: "backpressure"; message: string }
  | { kind: "unavailable"; message: string };

export interface IngestDeps {
  /** Runs the store's write commands (group commit). */
  commands: CommandRunner;
  /** Stored queue depth, for backpressure. */
  queue: Pick<QueueCountsTracker, "open">;
  clock: Clock;
  log: Logger;
  limits: Pick<Config["storage"], "maxPending" | "maxBytes">;
  /** Verifier per route name, for routes with `verify:`. */
  verifiers: Map<string, Verifier>;
  /** Called after new events are committed (wakes the deliverer). */
  onStored: () => void;
  /** Size cap (`storage.max_db_size`): why `incoming` more bytes must be refused, or null. */
  storageRefusal?: (incoming: number) => string | null;
  /**
   * Why the database file can no longer be trusted (removed or replaced while running), or null.
   * Checked before and after the commit: an ack must never point into a file no restart will see.
   */
  storageLost?: () => string | null;
  /** Called when a webhook is refused because the database is full (starts early pruning). */
  onStorageFull?: () => void;
  /** Sees each accepted request's headers (warns once about timestamped signatures on unverified routes). */
  noticeTimestamps?: (route: RouteConfig, headers: Array<[string, string]>) => void;
}

/** Checks a request against its route's signature scheme, if it has one. */
export type SignatureCheck = (route: RouteConfig, req: CapturedRequest) => Rejection | null;

/**
 * The signature check of routes with `verify:`, for webhooks and verified handshakes alike. A
 * refusal is counted as `rejected` in the route's stats.
 */
export function createSignatureCheck(
  deps: Pick<IngestDeps, "verifiers" | "commands" | "clock"> & { log?: Logger; countRefusal?: CountRefusal },
): SignatureCheck {
  const countRefusal = deps.countRefusal ?? createRefusalCount(deps);
  const logRejection = deps.log ? createRejectionLog(deps.log, deps.clock.now) : () => undefined;
  const refuse = (route: string, rejection: Rejection): Rejection => {
    countRefusal(route, "rejected");
    logRejection(route, rejection.code, rejection.message);
    return rejection;
  };
  return function check(route, req) {
    const verifier = deps.verifiers.get(route.name);
    if (!verifier) return null;
    const get = headerGetter(req.headers);
    // Only a request whose Connection header nominates fields pays for recording what was read.
    const named = nominatedFields(req.headers);
    let hopByHop: string | undefined;
    const header =
      named === null
        ? get
        : (name: string) => {
            if (named.has(name.toLowerCase())) hopByHop ??= name.toLowerCase();
            return get(name);
          };
    const outcome = verifier(header, req.body);
    if (!outcome.ok)
      return refuse(route.name, { kind: "rejected", code: outcome.code, message: outcome.message });
    if (hopByHop === undefined) return null;
    // Replay drops what Connection nominates, so the upstream would get the webhook without the
    // header that was verified: refuse now rather than store something that cannot be replayed.
    return refuse(route.name, {
      kind: "rejected",
      code: "hop_by_hop_signature",
      status: 400,
      message: `the Connection header nominates ${hopByHop}, which the signature check reads`,
    });
  };
}

/**
 * Turns a captured request into a stored event: verify, filter, backpressure, dedup, then one
 * store-webhook command (group commit). Resolves only after the commit, so "accepted" means durable. A
 * webhook the route's filter leaves out is stored and acknowledged the same way, as `filtered`.
 */
export function createIngestor(deps: IngestDeps) {
  const { commands, log } = deps;
  const countRefusal = createRefusalCount(deps);
  const checkSignature = createSignatureCheck({ ...deps, countRefusal });
  // Compiled once per route, on its first webhook.
  const filters = new WeakMap<RouteConfig, FilterPredicate>();
  const filterOf = (route: RouteConfig): FilterPredicate => {
    let predicate = filters.get(route);
    if (!predicate) {
      predicate = compileFilter(route.filter);
      filters.set(route, predicate);
    }
    return predicate;
  };
  let backpressureEpisode = false;
  let storageFullEpisode = false;
  // Accepted but not yet committed: queue counts move only after the commit, so without these a burst
  // arriving in one event-loop turn would all pass the limit check together.
  let inflightEvents = 0;
  let inflightBytes = 0;

  function overLimit(incomingBytes: number): string | null {
    const open = deps.queue.open();
    const { maxPending, maxBytes } = deps.limits;
    const events = open.events + inflightEvents;
    const bytes = open.bytes + inflightBytes;
    if (maxPending !== null && events >= maxPending) {
      return `queue holds ${events} undelivered events (storage.max_pending ${maxPending})`;
    }
    if (maxBytes !== null && bytes + incomingBytes > maxBytes) {
      return `queue holds ${bytes} bytes of undelivered bodies (storage.max_bytes ${maxBytes})`;
    }
    return null;
  }

  /** A 503 because the database cannot take the webhook: counted like every refusal. */
  function unavailable(route: RouteConfig, message: string): IngestResult {
    countRefusal(route.name, "rejected_storage");
    return { kind: "unavailable", message };
  }

  /** `trace`: the context stored with the event when tracing is on (README, Tracing). */
  return async function accept(
    route: RouteConfig,
    req: CapturedRequest,
    trace: StoredTrace | null = null,
  ): Promise<IngestResult> {
    const rejection = checkSignature(route, req);
    if (rejection) return rejection;
    deps.noticeTimestamps?.(route, req.headers);

    // After verification (a bad signature is refused, never filtered), before backpressure: a
    // filtered webhook adds nothing to the backlog the limits protect.
    const view = requestView(req);
    const filtered = !filterOf(route)(view);
    const full = filtered ? null : overLimit(req.body.length);
    if (full !== null) {
      if (!backpressureEpisode)
        log.warn({ route: route.name, reason: full }, "backpressure: refusing new webhooks");
      backpressureEpisode = true;
      countRefusal(route.name, "rejected_backpressure");
      return { kind: "backpressure", message: full };
    }
    if (backpressureEpisode) log.info("backpressure over: accepting webhooks again");
    backpressureEpisode = false;

    const lostBefore = deps.storageLost?.() ?? null;
    if (lostBefore !== null) return unavailable(route, `${lostBefore}; retry later`);

    const noRoom = deps.storageRefusal?.(req.body.length) ?? null;
    if (noRoom !== null) {
      if (!storageFullEpisode) log.warn({ reason: noRoom }, "database full: refusing new webhooks");
      storageFullEpisode = true;
      deps.onStorageFull?.();
      return unavailable(route, `storage full: ${noRoom}; retry later`);
    }
    if (storageFullEpisode) log.info("database has room again: accepting webhooks");
    storageFullEpisode = false;

    const dedup = route.dedup ? dedupKey(route.dedup.source, view.header, view.json) : null;
    const order = orderKey(route.ordering, view.json);
    const open = filtered ? 0 : 1;
    inflightEvents += open;
    inflightBytes += open * req.body.length;
    try {
      const stored = await commands.execute({
        kind: "store-webhook",
        event: {
          route: route.name,
          method: req.method,
          path: req.path,
          query: req.query,
          headers: req.headers,
          body: req.body,
          dedupKey: dedup,
          orderKey: order,
          trace,
          filtered,
        },
        // The first attempt of an arrival at 0 is the delay itself.
        firstDelayMs: firstAttemptAt(route.retry, 0),
        dedup: dedup !== null && route.dedup ? { key: dedup, windowMs: route.dedup.windowMs } : null,
      });
      if (stored.kind === "accepted" && !stored.filtered) deps.onStored();
      const lost = deps.storageLost?.() ?? null;
      return lost === null ? stored : unavailable(route, `${lost}; retry later`);
    } catch (err) {
      log.error({ err, route: route.name }, "could not store webhook; answering 503");
      if ((err as { code?: unknown } | null)?.code === "SQLITE_FULL") deps.onStorageFull?.();
      return unavailable(route, "the webhook could not be stored; retry later");
    } finally {
      inflightEvents -= open;
      inflightBytes -= open * req.body.length;
    }
  };
}

export type Ingestor = ReturnType<typeof createIngestor>;
