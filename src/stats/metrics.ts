import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { GateStates } from "../gate.js";
import {
  type AttemptResult,
  Details,
  type DueEvent,
  type EventStatus,
  EventStatuses,
  type Reason,
  Reasons,
  type RouteDelivery,
  type StatCounter,
} from "../model.js";
import type { QueueCounts, StatIncrement } from "../store/index.js";

export interface MetricsDeps {
  /** Configured route names: every label set is created at 0 so dashboards see series at once. */
  routes: string[];
  /** Queue depth of one route, from the in-memory queue counts (no database scan at scrape time). */
  queue: (route: string) => QueueCounts;
  /** received_at (epoch ms) of the oldest undelivered event, or null. */
  oldestOpenReceivedAt: () => number | null;
  /** The route's delivery (gate, throttle) from the deliverer, or null for an unknown route. */
  route: (route: string) => RouteDelivery | null;
  now: () => number;
  /** Attempt outcomes held in memory because the database cannot take writes. */
  unrecordedOutcomes?: () => number;
  /** The store is shared by replicas (PostgreSQL): queue, age and gate gauges are cluster-wide. */
  shared?: boolean;
  /** Register Node's process metrics too (off in tests that build many registries). */
  processMetrics?: boolean;
}

const REJECT_KINDS = ["signature", "backpressure", "storage"] as const;
const LINE_DETAILS = new Set<string>(Object.values(Details));

/**
 * Bounds the `detail` label: a status code stays a 3-digit code, LINE's fixed strings stay as
 * they are, and a string with a suffix such as "TLS handshake failure (CERT_HAS_EXPIRED)" loses
 * the suffix, so no input can mint new time series.
 */
export function detailLabel(detail: string): string {
  if (/^\d{3}$/.test(detail)) return detail;
  if (LINE_DETAILS.has(detail)) return detail;
  const base = detail.replace(/\s*\(.*\)$/, "");
  return LINE_DETAILS.has(base) ? base : "other";
}

/**
 * Prometheus metrics on a registry of their own (never prom-client's global one). Counters move
 * from the committed stat increments (`counted`), the same ones /stats reads back, so the two
 * cannot drift; histograms time ingest and attempts; gauges are read from the in-memory state when
 * scraped.
 */
/** Said of the gauges that read the shared database: each replica reports the same cluster-wide value. */
const SHARED =
  " Cluster-wide on PostgreSQL: every replica reports the same value (aggregate with max, not sum).";

export function createMetrics(deps: MetricsDeps) {
  const registry = new Registry();
  const registers = [registry];
  const route = ["route"] as const;

  const received = new Counter({
    name: "hookbuffer_received_total",
    help: "Webhooks stored (acknowledged with 2xx).",
    labelNames: route,
    registers,
  });
  const delivered = new Counter({
    name: "hookbuffer_delivered_total",
    help: "Events delivered with a 2xx from the upstream.",
    labelNames: route,
    registers,
  });
  const duplicates = new Counter({
    name: "hookbuffer_duplicates_total",
    help: "Webhooks acknowledged but not stored again (dedup key seen).",
    labelNames: route,
    registers,
  });
  const filtered = new Counter({
    name: "hookbuffer_filtered_total",
    help: "Webhooks stored and acknowledged but left undelivered by the route's filter (also in received).",
    labelNames: route,
    registers,
  });
  const dead = new Counter({
    name: "hookbuffer_dead_total",
    help: "Events dead-lettered (retries exhausted or a permanent status).",
    labelNames: route,
    registers,
  });
  const rejected = new Counter({
    name: "hookbuffer_rejected_total",
    help: "Webhooks refused at ingest: signature (401), backpressure or storage (503).",
    labelNames: ["route", "kind"] as const,
    registers,
  });
  const failed = new Counter({
    name: "hookbuffer_failed_attempts_total",
    help: "Failed delivery attempts by LINE reason and detail (detail: fixed string or status code).",
    labelNames: ["route", "reason", "detail"] as const,
    registers,
  });
  const ack = new Histogram({
    name: "hookbuffer_ack_duration_seconds",
    help: "Ingest time from the received body to the durable commit (verify, dedup, group commit).",
    labelNames: route,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
    registers,
  });
  const attempt = new Histogram({
    name: "hookbuffer_attempt_duration_seconds",
    help: "Duration of one delivery attempt to the upstream.",
    labelNames: route,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const lag = new Histogram({
    name: "hookbuffer_delivery_lag_seconds",
    help: "Time from receipt to successful delivery.",
    labelNames: route,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400],
    registers,
  });

  new Gauge({
    name: "hookbuffer_queue_events",
    help: `Stored events by route and status.${deps.shared ? SHARED : ""}`,
    labelNames: ["route", "status"] as const,
    registers,
    collect() {
      for (const name of deps.routes) {
        const q = deps.queue(name);
        for (const status of Object.keys(EventStatuses) as EventStatus[])
          this.set({ route: name, status }, q[status]);
      }
    },
  });
  new Gauge({
    name: "hookbuffer_oldest_pending_age_seconds",
    help: `Age of the oldest event not yet delivered or dead (0 when none).${deps.shared ? SHARED : ""}`,
    registers,
    collect() {
      const oldest = deps.oldestOpenReceivedAt();
      this.set(oldest === null ? 0 : Math.max(0, deps.now() - oldest) / 1000);
    },
  });
  new Gauge({
    name: "hookbuffer_breaker_state",
    help: `1 for the route's current delivery gate (active, paused by an operator, open breaker).${deps.shared ? SHARED : ""}`,
    labelNames: ["route", "state"] as const,
    registers,
    collect() {
      for (const name of deps.routes) {
        const current = deps.route(name)?.state ?? "active";
        for (const state of GateStates) this.set({ route: name, state }, state === current ? 1 : 0);
      }
    },
  });

  new Gauge({
    name: "hookbuffer_rate_limit_per_second",
    help: "The route's configured delivery rate limit (attempts per second; 0 when none).",
    labelNames: route,
    registers,
    collect() {
      for (const name of deps.routes) {
        this.set({ route: name }, deps.route(name)?.throttle.ratePerSecond ?? 0);
      }
    },
  });
  new Gauge({
    name: "hookbuffer_throttled",
    help: "1 while the route's upstream has it throttled (429, or 503 with Retry-After), else 0.",
    labelNames: route,
    registers,
    collect() {
      for (const name of deps.routes) this.set({ route: name }, deps.route(name)?.throttle.throttled ? 1 : 0);
    },
  });
  new Gauge({
    name: "hookbuffer_throttled_events",
    help: "Due events held back by the route's rate limit or throttle right now (capped at 10000).",
    labelNames: route,
    registers,
    collect() {
      for (const name of deps.routes) this.set({ route: name }, deps.route(name)?.throttle.held ?? 0);
    },
  });
  new Gauge({
    name: "hookbuffer_unrecorded_outcomes",
    help: "Attempt outcomes kept in memory because the database cannot take writes (above 0: delivery is paused).",
    registers,
    collect() {
      this.set(deps.unrecordedOutcomes?.() ?? 0);
    },
  });

  for (const name of deps.routes) {
    for (const c of [received, delivered, duplicates, filtered, dead]) c.inc({ route: name }, 0);
    for (const kind of REJECT_KINDS) rejected.inc({ route: name, kind }, 0);
    for (const h of [ack, attempt, lag]) h.zero({ route: name });
  }
  if (deps.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  // Where each stat counter shows in /metrics; every counter must say (histogram buckets: nowhere,
  // the histograms observe exact durations).
  const counters: Record<StatCounter, ((route: string, n: number) => void) | null> = {
    received: (route, n) => received.inc({ route }, n),
    duplicate: (route, n) => duplicates.inc({ route }, n),
    filtered: (route, n) => filtered.inc({ route }, n),
    delivered: (route, n) => delivered.inc({ route }, n),
    dead: (route, n) => dead.inc({ route }, n),
    rejected: (route, n) => rejected.inc({ route, kind: "signature" }, n),
    rejected_backpressure: (route, n) => rejected.inc({ route, kind: "backpressure" }, n),
    rejected_storage: (route, n) => rejected.inc({ route, kind: "storage" }, n),
    attempt_ms: null,
    lag_ms: null,
  };

  return {
    registry,
    /** Feeds the counters from a committed batch's increments (Writer.subscribe). */
    counted(counts: readonly StatIncrement[]): void {
      for (const inc of counts) {
        if (inc.metric in Reasons) {
          const reason = inc.metric as Reason;
          failed.inc({ route: inc.route, reason, detail: detailLabel(inc.detail) }, inc.n);
        } else counters[inc.metric as StatCounter]?.(inc.route, inc.n);
      }
    },
    /** Times attempts (a DeliveryHooks observer). */
    hooks: {
      attempt(route: { name: string }, event: Pick<DueEvent, "receivedAt">, result: AttemptResult): void {
        const labels = { route: route.name };
        attempt.observe(labels, result.durationMs / 1000);
        if (result.ok)
          lag.observe(labels, Math.max(0, result.startedAt + result.durationMs - event.receivedAt) / 1000);
      },
    },
    /** Times acks: from the received body to the answer of a stored or duplicate webhook. */
    observeIngest<R extends { name: string }, Q, T extends { kind: string }>(
      accept: (route: R, req: Q) => Promise<T>,
    ): (route: R, req: Q) => Promise<T> {
      return async function observedAccept(route: R, req: Q): Promise<T> {
        const started = process.hrtime.bigint();
        const result = await accept(route, req);
        if (result.kind === "accepted" || result.kind === "duplicate")
          ack.observe({ route: route.name }, Number(process.hrtime.bigint() - started) / 1e9);
        return result;
      };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
