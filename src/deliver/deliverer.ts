import type { Logger } from "pino";
import { ShutdownError } from "../classify/errors.js";
import type { Clock } from "../clock.js";
import type { RouteConfig } from "../config/types.js";
import type { AttemptResult, StoredEvent } from "../model.js";
import type { QueueGauges } from "../stats/gauges.js";
import { bucketLabel } from "../stats/histogram.js";
import type { EventUpdate, Store, Writer } from "../store/index.js";
import { afterAttempt, allowance, type BreakerState, initialBreaker } from "./breaker.js";
import { decide } from "./decide.js";
import { forwardHeaders, targetUrl } from "./headers.js";
import { send } from "./send.js";
import type { Upstream } from "./upstream.js";

/** Observers of delivery (metrics, alerts); called after the outcome is committed. */
export interface DeliveryHooks {
  attempt?(route: RouteConfig, event: StoredEvent, result: AttemptResult, update: EventUpdate): void;
  breaker?(route: RouteConfig, before: BreakerState, after: BreakerState): void;
}

export interface DelivererDeps {
  store: Store;
  writer: Writer;
  gauges: QueueGauges;
  routes: RouteConfig[];
  upstreams: Map<string, Upstream>;
  clock: Clock;
  log: Logger;
  random?: () => number;
  hooks?: DeliveryHooks;
}

interface RouteRunner {
  route: RouteConfig;
  upstream: Upstream;
  /** Claimed (leased) events not yet being sent. */
  buffer: StoredEvent[];
  inflight: number;
  claiming: boolean;
  probing: boolean;
  breaker: BreakerState;
}

/** Events claimed ahead of free slots per route (leased, released if the route stops). */
const PREFETCH = 64;

/** Upper bound on one sleep, so a clock jump cannot strand due events for long. */
const MAX_SLEEP_MS = 60_000;

/**
 * Claims due events per route (leased, `next_attempt_at, seq` order, up to the route's free
 * slots), sends each once, decides its fate and commits attempt, status, stats and breaker state
 * together. Woken by ingest; otherwise sleeps until the earliest due event.
 */
export function createDeliverer(deps: DelivererDeps) {
  const { store, writer, gauges, clock, log } = deps;
  const random = deps.random ?? Math.random;
  const saved = new Map(store.routes.all().map((r) => [r.route, r]));
  const runners = new Map<string, RouteRunner>();
  for (const route of deps.routes) {
    const upstream = deps.upstreams.get(route.name);
    if (!upstream) throw new Error(`no upstream for route ${route.name}`);
    const s = saved.get(route.name);
    const breaker = s ? ({ ...initialBreaker(), ...s } as BreakerState) : initialBreaker();
    runners.set(route.name, {
      route,
      upstream,
      buffer: [],
      inflight: 0,
      claiming: false,
      probing: false,
      breaker,
    });
  }
  const shutdown = new AbortController();
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let wakeScheduled = false;
  const idleWaiters: Array<() => void> = [];

  function saveBreaker(r: RouteRunner): void {
    store.routes.save({ route: r.route.name, ...r.breaker, updatedAt: clock.now() });
  }

  /**
   * Starts deliveries from the route's prefetched buffer up to its free slots, and claims more in
   * the background. Claiming ahead (up to one concurrency's worth) keeps the claim's commit off
   * each delivery's path; claimed rows are leased, so a crash just returns them to pending.
   */
  function pump(r: RouteRunner): void {
    if (stopping) return;
    const gate = allowance(r.breaker, r.route.concurrency, clock.now());
    if (gate.probe) {
      // Half-open: exactly one probe at a time, nothing buffered ahead of it.
      if (!r.probing && r.inflight === 0) {
        const event = r.buffer.shift();
        if (event) void deliver(r, event, true);
        else claim(r, 1);
      }
      return;
    }
    while (r.inflight < gate.slots && r.buffer.length > 0)
      void deliver(r, r.buffer.shift() as StoredEvent, false);
    // Refill in chunks once half the buffer is spent: one claim (and one commit) per many events.
    const ahead = Math.max(r.route.concurrency, PREFETCH);
    if (gate.slots > 0 && r.buffer.length <= ahead / 2) {
      claim(r, gate.slots - r.inflight + ahead - r.buffer.length);
    }
  }

  function claim(r: RouteRunner, limit: number): void {
    if (r.claiming) return;
    r.claiming = true;
    const now = clock.now();
    const leaseUntil = now + r.route.connectTimeoutMs + r.route.timeoutMs + 60_000;
    writer
      .run((ctx) => {
        const claimed = store.events.claimDue(r.route.name, clock.now(), limit, leaseUntil);
        ctx.afterCommit(() => {
          for (const e of claimed) gauges.move(r.route.name, "pending", "delivering", e.body.length);
        });
        return claimed;
      })
      .then(
        (claimed) => {
          r.claiming = false;
          r.buffer.push(...claimed);
          if (stopping) {
            releaseBuffer(r);
            return;
          }
          if (claimed.length > 0) pump(r);
          if (claimed.length < limit) scheduleTimer();
        },
        (err: unknown) => {
          r.claiming = false;
          log.error({ err, route: r.route.name }, "claiming due events failed; retrying in 1s");
          scheduleTimer(1000);
        },
      );
  }

  /** Returns prefetched, never-sent events to pending (breaker opened, paused, or stopping). */
  function releaseBuffer(r: RouteRunner): Promise<void> {
    const events = r.buffer.splice(0);
    if (events.length === 0) return Promise.resolve();
    return writer
      .run((ctx) => {
        for (const e of events) store.events.release(e.seq);
        ctx.afterCommit(() => {
          for (const e of events) gauges.move(r.route.name, "delivering", "pending", e.body.length);
        });
      })
      .catch((err: unknown) =>
        log.error({ err }, "could not release prefetched events; recovered on restart"),
      );
  }

  async function deliver(r: RouteRunner, event: StoredEvent, probe: boolean): Promise<void> {
    r.inflight++;
    if (probe) r.probing = true;
    const { route } = r;
    const extra: Array<[string, string]> = [
      ["X-Hookbuffer-Event-Id", event.id],
      ["X-Hookbuffer-Attempt", String(event.attempts + 1)],
      ["X-Hookbuffer-Received-At", new Date(event.receivedAt).toISOString()],
    ];
    if (route.verify) extra.push(["X-Hookbuffer-Verified", route.verify.scheme]);
    const result = await send(
      r.upstream,
      {
        url: targetUrl(route.upstream, route.pathPrefix, event.path, event.query),
        method: event.method,
        headers: forwardHeaders(event.headers, extra),
        body: event.body,
      },
      { timeoutMs: route.timeoutMs, now: clock.now, signal: shutdown.signal },
    );
    r.inflight--;
    let done: Promise<unknown>;
    if (result.aborted) {
      done = writer.run((ctx) => {
        store.events.release(event.seq);
        ctx.afterCommit(() => gauges.move(route.name, "delivering", "pending", event.body.length));
      });
    } else {
      done = record(r, event, result, probe);
    }
    // Start the next buffered event now, so its refill claim shares this outcome's commit. A probe
    // waits instead: its outcome decides whether the breaker closes.
    if (!probe) pump(r);
    await done.catch((err: unknown) =>
      log.error({ err, event: event.id }, "could not record attempt; the lease is recovered on restart"),
    );
    if (probe) r.probing = false;
    if (stopping && totalInflight() === 0) for (const w of idleWaiters.splice(0)) w();
    pump(r);
  }

  function record(r: RouteRunner, event: StoredEvent, result: AttemptResult, probe: boolean): Promise<void> {
    const { route } = r;
    const update = decide(event, result, route, random());
    return writer.run(
      (ctx) => {
        // The breaker moves at commit time, in commit order, so concurrent attempts cannot overwrite
        // each other's transitions.
        const before = r.breaker;
        const after = afterAttempt(before, route.breaker, result.failure, probe, clock.now());
        store.events.update(update, event.orderKey, route.name);
        store.attempts.insert({
          eventId: event.id,
          n: update.attempts,
          startedAt: result.startedAt,
          durationMs: result.durationMs,
          outcome: result.ok ? "delivered" : "failed",
          reason: result.failure?.reason ?? null,
          detail: result.failure?.detail ?? null,
          statusCode: result.statusCode,
          error: result.error,
        });
        const at = result.startedAt + result.durationMs;
        ctx.count(at, route.name, "attempt_ms", bucketLabel(result.durationMs));
        if (result.ok) {
          ctx.count(at, route.name, "delivered");
          ctx.count(at, route.name, "lag_ms", bucketLabel(at - event.receivedAt));
        } else if (result.failure) {
          ctx.count(at, route.name, result.failure.reason, result.failure.detail);
        }
        if (update.status === "dead") ctx.count(at, route.name, "dead");
        const breakerChanged = after.state !== before.state || after.probeAt !== before.probeAt;
        if (breakerChanged || after.consecutiveFailures !== before.consecutiveFailures) {
          r.breaker = after;
          saveBreaker(r);
        }
        ctx.afterCommit(() => {
          gauges.move(route.name, "delivering", update.status, event.body.length);
          deps.hooks?.attempt?.(route, event, result, update);
          if (breakerChanged) gateChanged(r, before, after);
        });
        // Ordered routes wait for this commit before the next event of the key may go.
      },
      { lazy: route.ordering.kind === "none" },
    );
  }

  /** After a committed gate change: log it, hand back prefetched events, re-arm the timer. */
  function gateChanged(r: RouteRunner, before: BreakerState, after: BreakerState): void {
    const route = r.route.name;
    if (after.state === "open" && before.state !== "open") {
      log.warn({ route, disabled: after.disabled }, "circuit breaker opened: delivery paused");
    } else if (after.state === "active" && before.state === "open") {
      log.info({ route }, "circuit breaker closed: delivery resumed");
    } else if (after.state !== before.state) {
      log.info({ route, state: after.state }, "route state changed by operator");
    }
    if (after.state !== "active") void releaseBuffer(r);
    deps.hooks?.breaker?.(r.route, before, after);
    wake();
  }

  function scheduleTimer(maxDelay = MAX_SLEEP_MS): void {
    if (stopping) return;
    const now = clock.now();
    let earliest = now + maxDelay;
    for (const r of runners.values()) {
      const gate = allowance(r.breaker, r.route.concurrency, now);
      if (r.breaker.state === "open" && r.breaker.probeAt !== null)
        earliest = Math.min(earliest, r.breaker.probeAt);
      if (gate.slots - r.inflight <= 0) continue;
      const due = store.events.nextDueAt(r.route.name);
      if (due !== null) earliest = Math.min(earliest, due);
    }
    if (timer) clearTimeout(timer);
    timer = setTimeout(wakeNow, Math.max(0, earliest - now));
    timer.unref();
  }

  function wakeNow(): void {
    wakeScheduled = false;
    for (const r of runners.values()) pump(r);
    scheduleTimer();
  }

  /** Changes a route's gate by operator request; persisted at once. */
  function setRouteState(name: string, state: "active" | "paused"): Promise<BreakerState | null> {
    const r = runners.get(name);
    if (!r) return Promise.resolve(null);
    return writer.run((ctx) => {
      const before = r.breaker;
      r.breaker = state === "active" ? initialBreaker() : { ...initialBreaker(), state: "paused" };
      saveBreaker(r);
      const after = r.breaker;
      ctx.afterCommit(() => gateChanged(r, before, after));
      return after;
    });
  }

  function totalInflight(): number {
    let n = 0;
    for (const r of runners.values()) n += r.inflight;
    return n;
  }

  function wake(): void {
    if (stopping || wakeScheduled) return;
    wakeScheduled = true;
    setImmediate(wakeNow);
  }

  return {
    /** Recovers leases left by a crashed process, then starts delivering. */
    start(): void {
      const recovered = store.events.recoverLeases();
      if (recovered > 0) log.warn({ recovered }, "returned events leased by a previous process to pending");
      wake();
    },
    wake,
    setRouteState,
    routeState(name: string): BreakerState | null {
      return runners.get(name)?.breaker ?? null;
    },
    inflight: totalInflight,
    /** Stops claiming, lets in-flight attempts finish for up to `graceMs`, then aborts the rest. */
    async stop(graceMs: number): Promise<void> {
      stopping = true;
      if (timer) clearTimeout(timer);
      await Promise.all([...runners.values()].map(releaseBuffer));
      const idle = new Promise<void>((resolve) => {
        if (totalInflight() === 0) resolve();
        else idleWaiters.push(resolve);
      });
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([idle, grace]);
      shutdown.abort(new ShutdownError());
      await idle;
      writer.flush();
      await Promise.all([...runners.values()].map((r) => r.upstream.close().catch(() => undefined)));
    },
  };
}

export type Deliverer = ReturnType<typeof createDeliverer>;
