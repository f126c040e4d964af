import type { Logger } from "pino";
import { ShutdownError } from "../classify/errors.js";
import type { Clock } from "../clock.js";
import type { RouteConfig } from "../config/types.js";
import { activeGate, type Gate, type OperatorGateState } from "../gate.js";
import type { AttemptResult, DueEvent, RouteDelivery, ThrottleStatus } from "../model.js";
import type { CommandRunner, Committed, EventUpdate, StoredGate } from "../store/index.js";
import { forwardHeaders, targetFor } from "../transport/headers.js";
import type { Sender } from "../transport/sender.js";
import { afterAttempt, allowance, countsTowardBreaker } from "./breaker.js";
import { type ClaimSource, type RouteQueue, routeQueue } from "./claims.js";
import { decide } from "./decide.js";
import { outcomeCounts, replayHeaderExtras } from "./outcome.js";
import { createOutcomeCommits, OutcomeNotRecordedError, type OutcomeStall } from "./outcome-commits.js";
import { createRouteLimiter, type RouteLimiter } from "./route-limiter.js";

/** Observers of delivery (metrics, alerts); called after the outcome is committed. */
export interface DeliveryHooks {
  attempt?(route: RouteConfig, event: DueEvent, result: AttemptResult, update: EventUpdate): void;
  /** The route's gate moved (breaker or operator), after the commit that saved it. */
  gate?(route: RouteConfig, before: Gate, after: Gate): void;
  /** A throttle episode (rate lowered or paused by the upstream) started, or ended. */
  throttle?(route: RouteConfig, status: ThrottleStatus, started: boolean): void;
  /** Outcomes cannot be committed (`stall`) or can again (null); once each per episode. */
  outcomesStalled?(stall: OutcomeStall | null): void;
}

/**
 * Tracing of attempts (README, Tracing). `begin` runs before the send and names the attempt's span
 * (its headers replace the stored `traceparent`/`tracestate`); `end` records that span from the
 * result's own timing. Null from `begin`: the event carries no trace.
 */
export interface AttemptTracing {
  begin(event: DueEvent): AttemptSpan | null;
  end(
    span: AttemptSpan,
    route: RouteConfig,
    event: DueEvent,
    result: AttemptResult,
    update: EventUpdate,
  ): void;
}

/** What `begin` hands back: the headers the attempt carries, opaque otherwise. */
export interface AttemptSpan {
  readonly headers: ReadonlyArray<[string, string]>;
}

export interface DelivererDeps {
  /** Runs the store's write commands (outcomes, gate changes). */
  commands: CommandRunner;
  /** Every committed change (this process's, and on a shared store the others' gate changes). */
  subscribe(fn: (committed: Committed) => void): void;
  /** Where due events are leased from: the store's claim side. */
  claims: ClaimSource;
  /** The routes' saved gates at start. */
  gates: readonly StoredGate[];
  /** Due events of a route, up to `cap` (what a rate limit holds back, for /stats). */
  countDue(route: string, now: number, cap: number): number;
  routes: RouteConfig[];
  /** Performs the attempts (on this thread or the delivery thread). */
  sender: Sender;
  clock: Clock;
  log: Logger;
  random?: () => number;
  hooks?: DeliveryHooks;
  /** Absent with tracing off: then nothing here allocates for it. */
  tracing?: AttemptTracing;
}

interface RouteRunner extends RouteQueue {
  route: RouteConfig;
  /** The route's upstream URL for a stored path and query. */
  target: (path: string, query: string) => string;
  /** Attempts handed to the sender and not yet settled (running, or waiting there for a slot). */
  inflight: number;
  probing: boolean;
  /** The committed gate: moved only by the commits that save it (see the writer subscription). */
  gate: Gate;
  /** Rate limit and upstream back-pressure: whether an attempt may start now. */
  limiter: RouteLimiter;
  /** A claim that answers later (a shared store) is under way: no second one meanwhile. */
  claiming: boolean;
}

/** The most due events /stats counts as held back by a route's limiter. */
const THROTTLED_COUNT_CAP = 10_000;

/** Events claimed ahead of free slots per route (leased, released if the route stops). */
const PREFETCH = 64;

/**
 * Attempts a route may hand to a queueing sender per free slot (docs/architecture.md#handover). At 4 the
 * delivery thread always has the next attempt at hand; at 2 its lanes still ran dry at
 * concurrency 8 while this thread was busy committing.
 */
const SENDER_QUEUE_FACTOR = 4;

/** Upper bound on one sleep, so a clock jump cannot strand due events for long. */
const MAX_SLEEP_MS = 60_000;

/**
 * Claims due events per route (leased, `next_attempt_at, seq` order, up to the route's free
 * slots), sends each once, decides its fate and commits attempt, status, stats and gate
 * together. Woken by ingest; otherwise sleeps until the earliest due event.
 */
export function createDeliverer(deps: DelivererDeps) {
  const { commands, claims, clock, log } = deps;
  const random = deps.random ?? Math.random;
  const saved = new Map(deps.gates.map((g) => [g.route, g]));
  const runners = new Map<string, RouteRunner>();
  for (const route of deps.routes) {
    const s = saved.get(route.name);
    const gate: Gate = s
      ? {
          state: s.state,
          consecutiveFailures: s.consecutiveFailures,
          recentFailures: s.recentFailures,
          disabled: s.disabled,
          cooldownMs: s.cooldownMs,
          probeAt: s.probeAt,
        }
      : activeGate();
    const runner: RouteRunner = {
      ...routeQueue(route.name),
      route,
      target: targetFor(route.upstream, route.pathPrefix),
      inflight: 0,
      probing: false,
      gate,
      claiming: false,
      limiter: createRouteLimiter({
        route,
        now: clock.now,
        log,
        ready: () => pump(runner),
        paused: () => releaseBuffer(runner),
        episode: (status, started) => deps.hooks?.throttle?.(route, status, started),
      }),
    };
    runners.set(route.name, runner);
  }
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let wakeScheduled = false;
  const idleWaiters: Array<() => void> = [];
  // While outcomes cannot be committed nothing new is claimed or sent (pump() stands still).
  const outcomes = createOutcomeCommits({
    commands,
    log,
    now: clock.now,
    onStall(stall) {
      deps.hooks?.outcomesStalled?.(stall);
      // Attempts not yet sent go back: sending them now would only add outcomes to hold.
      if (stall !== null) for (const r of runners.values()) releaseBuffer(r);
      else wake();
    },
  });

  // A gate moves in memory only when the commit that saved it is through, once, in commit order.
  deps.subscribe((committed) => {
    for (const change of committed.gates) {
      const r = runners.get(change.route);
      if (!r) continue;
      r.gate = change.after;
      const { before, after } = change;
      if (after.state !== before.state || after.probeAt !== before.probeAt) gateChanged(r, before, after);
    }
  });

  /**
   * Starts deliveries from the route's prefetched buffer up to its free slots, and claims more.
   * Claiming is a read plus an in-memory lease, so the buffer refills without waiting for a commit.
   */
  function pump(r: RouteRunner): void {
    if (stopping || outcomes.stalled) return;
    const allowed = allowance(r.gate, r.route.concurrency, clock.now());
    if (allowed.probe) {
      // Half-open: exactly one probe at a time, nothing buffered ahead of it.
      if (!r.probing && r.inflight === 0) {
        if (r.buffer.length === 0) claim(r, 1, true);
        if (r.buffer.length > 0 && r.limiter.take()) void deliver(r, r.buffer.shift() as DueEvent, true);
      }
      return;
    }
    const limit = handover(r, allowed.slots);
    for (;;) {
      while (r.inflight < limit && r.buffer.length > 0) {
        // Waiting for a token is not an attempt: the event stays leased in the buffer.
        if (!r.limiter.take()) return;
        void deliver(r, r.buffer.shift() as DueEvent, false);
      }
      // Refill in chunks once half the buffer is spent: one index read per many events.
      const ahead =
        claims.prefetch === "concurrency" ? r.route.concurrency : Math.max(r.route.concurrency, PREFETCH);
      if (allowed.slots === 0 || r.buffer.length > ahead / 2 || r.drained) return;
      const want = limit - r.inflight + ahead - r.buffer.length;
      if (want <= 0) return;
      const claimed = claim(r, want);
      if (claimed.length < want) scheduleTimer();
      if (claimed.length === 0) return;
    }
  }

  /**
   * How many attempts the route may have handed to the sender: its open slots, times
   * SENDER_QUEUE_FACTOR when the sender queues per route itself (the delivery thread), so that a
   * finished attempt is followed at once by the next one there instead of after a round trip
   * through this thread. The sender still runs at most `slots` at a time, as pump() would; when
   * the gate closes, releaseBuffer() takes the waiting ones back. Not while a rate applies: the
   * token is taken at hand-over, so the attempt must start then, not later in a queue.
   */
  function handover(r: RouteRunner, slots: number): number {
    return deps.sender.queues && claims.handover !== false && !r.limiter.limited()
      ? slots * SENDER_QUEUE_FACTOR
      : slots;
  }

  /**
   * Leases up to `limit` due events of the route into its buffer. A claim that answers later (a
   * shared store) returns nothing now and pumps the route again when its events are in.
   */
  function claim(r: RouteRunner, limit: number, probe = false): DueEvent[] {
    if (r.claiming) return [];
    const failed = (err: unknown) => {
      log.error({ err, route: r.route.name }, "claiming due events failed; retrying in 1s");
      scheduleTimer(1000);
    };
    try {
      const claimed = claims.claim(r, limit, probe);
      if (Array.isArray(claimed)) return claimed;
      r.claiming = true;
      claimed.then(
        () => {
          r.claiming = false;
          // The gate may have closed (or delivery stopped) while the claim was out: hand the events back.
          if (stopping || outcomes.stalled || allowance(r.gate, r.route.concurrency, clock.now()).slots === 0)
            releaseBuffer(r);
          else pump(r);
        },
        (err: unknown) => {
          r.claiming = false;
          failed(err);
        },
      );
      return [];
    } catch (err) {
      failed(err);
      return [];
    }
  }

  /** Hands prefetched, never-sent events back (breaker opened, paused, or stopping). */
  function releaseBuffer(r: RouteRunner): void {
    claims.releaseBuffer(r);
    // Those waiting in the sender come back as aborted results, and are unleased then.
    deps.sender.release(r.route.name);
  }

  async function deliver(r: RouteRunner, event: DueEvent, probe: boolean): Promise<void> {
    r.inflight++;
    if (probe) r.probing = true;
    const { route } = r;
    const span = deps.tracing?.begin(event) ?? null;
    const extras = replayHeaderExtras(route, event);
    if (span !== null) extras.push(...span.headers);
    const result = await deps.sender.send(
      route.name,
      {
        url: r.target(event.path, event.query),
        method: event.method,
        headers: forwardHeaders(event.headers, extras),
        body: event.body,
      },
      route.timeoutMs,
    );
    r.inflight--;
    if (!result.aborted) r.limiter.note(result);
    if (result.aborted) {
      claims.unlease(r, event);
    } else {
      const done = record(r, event, result, probe, span);
      // The next buffered event starts now; a probe waits, since its outcome decides the breaker.
      if (!probe) pump(r);
      await done.catch((err: unknown) => {
        // Not recorded: the row is still pending, so dropping the lease means it is tried again.
        // (Storage failures never get here: their outcomes are held and retried.)
        if (!(err instanceof OutcomeNotRecordedError))
          log.error({ err, event: event.id }, "could not record attempt; the event will be retried");
        claims.unlease(r, event);
      });
    }
    if (probe) r.probing = false;
    if (stopping && totalInflight() === 0) for (const w of idleWaiters.splice(0)) w();
    pump(r);
  }

  function record(
    r: RouteRunner,
    event: DueEvent,
    result: AttemptResult,
    probe: boolean,
    span: AttemptSpan | null,
  ): Promise<void> {
    const { route } = r;
    const update = decide(event, result, route, random());
    // The attempt happened whether or not its outcome commits, so its span is recorded now.
    if (span !== null) deps.tracing?.end(span, route, event, result, update);
    return outcomes.commit(
      {
        kind: "record-outcome",
        route: route.name,
        event,
        result,
        update,
        counts: outcomeCounts(event, result, update),
        gate: { committed: r.gate, next: (before) => breakerAfter(route, before, result, probe) },
        onCommit: () => {
          claims.settled(r, event, update.status, update.nextAttemptAt);
          deps.hooks?.attempt?.(route, event, result, update);
        },
      },
      // Ordered routes wait for this commit before the next event of the key may go.
      { lazy: route.ordering.kind === "none" },
    );
  }

  /**
   * The breaker after an attempt. A failure `breaker.count` leaves out is neutral; as a half-open
   * probe it closes the breaker, since the upstream answered.
   */
  function breakerAfter(route: RouteConfig, s: Gate, result: AttemptResult, probe: boolean) {
    const { failure } = result;
    if (failure === null || countsTowardBreaker(route.breaker, failure, result.statusCode)) {
      return afterAttempt(s, route.breaker, failure, probe, clock.now());
    }
    return probe ? afterAttempt(s, route.breaker, null, probe, clock.now()) : s;
  }

  /** After a committed gate change: log it, hand back prefetched events, re-arm the timer. */
  function gateChanged(r: RouteRunner, before: Gate, after: Gate): void {
    const route = r.route.name;
    if (after.state === "open" && before.state !== "open") {
      log.warn({ route, disabled: after.disabled }, "circuit breaker opened: delivery paused");
    } else if (after.state === "active" && before.state === "open") {
      log.info({ route }, "circuit breaker closed: delivery resumed");
    } else if (after.state !== before.state) {
      log.info({ route, state: after.state }, "route state changed by operator");
    }
    if (after.state !== "active") releaseBuffer(r);
    deps.hooks?.gate?.(r.route, before, after);
    wake();
  }

  function scheduleTimer(maxDelay = MAX_SLEEP_MS): void {
    if (stopping) return;
    const now = clock.now();
    let earliest = now + maxDelay;
    for (const r of runners.values()) {
      const allowed = allowance(r.gate, r.route.concurrency, now);
      if (r.gate.state === "open" && r.gate.probeAt !== null) earliest = Math.min(earliest, r.gate.probeAt);
      // A route waiting for a token is pumped by its limiter's own timer.
      if (handover(r, allowed.slots) - r.inflight <= 0 || r.limiter.waiting()) continue;
      let due: number | null;
      try {
        due = claims.nextDueAt(r);
      } catch (err) {
        // A failed read must not end the loop: look again in a second.
        log.error({ err, route: r.route.name }, "reading the next due time failed; retrying in 1s");
        due = now + 1000;
      }
      if (due !== null) earliest = Math.min(earliest, due);
    }
    if (timer) clearTimeout(timer);
    timer = setTimeout(wakeNow, Math.max(0, earliest - now));
    timer.unref();
  }

  function wakeNow(): void {
    wakeScheduled = false;
    for (const r of runners.values()) {
      r.drained = false;
      pump(r);
    }
    scheduleTimer();
  }

  /** Pauses or resumes a route by operator request (resume also closes an open breaker); persisted at once. */
  async function setGate(name: string, state: OperatorGateState): Promise<Gate | null> {
    const r = runners.get(name);
    if (!r) return null;
    const after: Gate = state === "active" ? activeGate() : { ...activeGate(), state: "paused" };
    await commands.execute({ kind: "set-gate", route: name, committed: r.gate, after, at: clock.now() });
    // Even when the state stays as it was: an operator's resume looks for due events at once.
    wake();
    return after;
  }

  function totalInflight(): number {
    let n = 0;
    for (const r of runners.values()) n += r.inflight;
    return n;
  }

  /** Something may have become due anywhere (admin changes, gate changes): claim from the start. */
  function wake(): void {
    for (const r of runners.values()) claims.rescan(r);
    wakeForNew();
  }

  /** New events were stored: they sort after every cursor, so claims carry on where they were. */
  function wakeForNew(): void {
    if (stopping || wakeScheduled) return;
    wakeScheduled = true;
    setImmediate(wakeNow);
  }

  return {
    start(): void {
      wake();
    },
    /** Whether an event (by seq) is claimed or being delivered right now. */
    isLeased: claims.isLeased,
    leasedSeqs: claims.leasedSeqs,
    wake,
    wakeForNew,
    setGate,
    /** The route's committed gate, or null for an unknown route. */
    gate(name: string): Gate | null {
      return runners.get(name)?.gate ?? null;
    },
    /** Leased events of the route (of all routes for null): pending rows being delivered now. */
    leased: claims.leased,
    /** The route's delivery as the views show it (gate, throttle), or null for an unknown route. */
    route(name: string): RouteDelivery | null {
      const r = runners.get(name);
      if (!r) return null;
      const status = r.limiter.status();
      // Due events not started while a rate or a pause applies are what it holds back.
      const holding = r.limiter.limited();
      const due = holding ? deps.countDue(name, clock.now(), THROTTLED_COUNT_CAP) : 0;
      return {
        name,
        state: r.gate.state,
        disabled: r.gate.disabled,
        throttle: { ...status, held: Math.max(0, due - r.inflight) },
      };
    },
    inflight: totalInflight,
    /** Attempt outcomes held in memory because the database cannot take writes. */
    unrecordedOutcomes: () => outcomes.held,
    /** Stops claiming, lets in-flight attempts finish for up to `graceMs`, then aborts the rest. */
    async stop(graceMs: number): Promise<void> {
      stopping = true;
      if (timer) clearTimeout(timer);
      for (const r of runners.values()) r.limiter.stop();
      for (const r of runners.values()) releaseBuffer(r);
      const idle = new Promise<void>((resolve) => {
        if (totalInflight() === 0) resolve();
        else idleWaiters.push(resolve);
      });
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([idle, grace]);
      deps.sender.abort(new ShutdownError());
      await idle;
      outcomes.stop();
      commands.flush();
      await deps.sender.close();
    },
  };
}

export type Deliverer = ReturnType<typeof createDeliverer>;
