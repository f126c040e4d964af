/** Shared vocabulary: event states, the error taxonomy and the shapes passed between modules. */
import type { DisabledRecord, GateState } from "./gate.js";

export const EventStatuses = {
  pending: "pending",
  delivering: "delivering",
  delivered: "delivered",
  dead: "dead",
  /** Stored and acknowledged, but left undelivered by the route's `filter` (README, Routes). */
  filtered: "filtered",
} as const;
export type EventStatus = keyof typeof EventStatuses;

/** LINE's four error reasons (Messaging API webhook error statistics). */
export const Reasons = {
  could_not_connect: "could_not_connect",
  request_timeout: "request_timeout",
  error_status_code: "error_status_code",
  unclassified: "unclassified",
} as const;
export type Reason = keyof typeof Reasons;

/**
 * The per-minute counters: the `metric` of stats_minute and stats_hour, read back by /stats and fed
 * to the /metrics counters from the same committed increments. A failed attempt is counted under
 * its LINE reason (with the detail), so the full set of names is `StatMetric`.
 */
export type StatCounter =
  /** A webhook stored (acknowledged). */
  | "received"
  /** A webhook acknowledged but not stored again (dedup key seen). */
  | "duplicate"
  /** A webhook stored (so also received) but left undelivered by the route's filter. */
  | "filtered"
  | "delivered"
  | "dead"
  /** Refused for its signature (401, or 400 for a hop-by-hop signature header). */
  | "rejected"
  /** Refused with 503 over storage.max_pending or storage.max_bytes. */
  | "rejected_backpressure"
  /** Refused with 503 because the database cannot take it (full, removed, failing writes). */
  | "rejected_storage"
  /** Attempt durations by histogram bucket (detail: the bucket label). */
  | "attempt_ms"
  /** Receipt-to-delivery lag by histogram bucket (detail: the bucket label). */
  | "lag_ms";
export type StatMetric = StatCounter | Reason;

/** LINE's detail strings, verbatim. `error_status_code` uses the status code itself as detail. */
export const Details = {
  connectionFailed: "Connection failed",
  goaway: "Connection failed (received GOAWAY)",
  sessionClosedBeforeRequest: "Connection failed (session closed)",
  connectionTimeout: "Connection timeout",
  dnsTimeout: "DNS Query timeout",
  invalidUrl: "Invalid URL syntax",
  protocolNegotiation: "Session protocol negotiation failure",
  noTlsRecord: "No SSL/TLS record",
  tlsHandshake: "TLS handshake failure",
  unknownHost: "Unknown host",
  requestTimeout: "Request timeout",
  sessionClosed: "Session closed unexpectedly",
  streamClosed: "Stream closed unexpectedly",
  unclassified: "Unclassified webhook dispatch error",
} as const;

/** One failed attempt's place in the taxonomy. */
export interface Classification {
  /** One of LINE's four reasons. */
  reason: Reason;
  /** LINE's detail string (or the status code for error_status_code). */
  detail: string;
}

/** A request captured at ingest, exactly as received. */
export interface CapturedRequest {
  /** HTTP method, upper case. */
  method: string;
  /** Path without query, as received (not normalised). */
  path: string;
  /** Raw query string without the leading `?`, or "" when absent. */
  query: string;
  /** Header name/value pairs in arrival order, original case, duplicates kept. */
  headers: Array<[string, string]>;
  /** The raw body bytes. */
  body: Buffer;
}

/** A stored webhook as the deliverer and the admin API see it. */
export interface StoredEvent extends CapturedRequest {
  /** Insertion sequence (row id): arrival order, used for FIFO and pagination. */
  seq: number;
  /** ULID, also forwarded as X-Hookbuffer-Event-Id. */
  id: string;
  /** Route name ("default" without named routes). */
  route: string;
  /** Epoch ms when the event was committed. */
  receivedAt: number;
  status: EventStatus;
  /** Completed attempts so far. */
  attempts: number;
  /** Attempts made before the current retry schedule started (redelivery restarts it). */
  scheduleBase: number;
  /** Epoch ms the current retry schedule started (received_at, or the redelivery time); max_age counts from here. */
  scheduleStart: number;
  /** Epoch ms of the next attempt (pending events). */
  nextAttemptAt: number;
  /** Ordering key (FIFO per key), or null when ordering does not apply. */
  orderKey: string | null;
  lastReason: Reason | null;
  lastDetail: string | null;
  lastStatus: number | null;
  /** Epoch ms when delivered, or null. */
  deliveredAt: number | null;
}

/** What the deliverer reads of a claimed event: the request and what its retry schedule needs. */
export type DueEvent = Pick<
  StoredEvent,
  | "seq"
  | "id"
  | "route"
  | "receivedAt"
  | "method"
  | "path"
  | "query"
  | "headers"
  | "body"
  | "attempts"
  | "scheduleBase"
  | "scheduleStart"
  | "orderKey"
  | "nextAttemptAt"
> & {
  /**
   * Body length plus the response bytes stored with its attempts: what it holds toward
   * storage.max_bytes. Kept apart because the body itself may be handed to the delivery thread.
   */
  size: number;
  /** The trace the event belongs to, when it was stored with tracing on. */
  trace?: StoredTrace | null;
};

/**
 * The trace context stored with an event at ingest (README, Tracing): the ingest span as a W3C
 * `traceparent` (its trace id and span id are what every attempt span continues) and the
 * `tracestate` that came with the request.
 */
export interface StoredTrace {
  parent: string;
  state: string | null;
}

/** The result of one delivery attempt. `send` always resolves to one of these; it never throws. */
export interface AttemptResult {
  /** True for a 2xx response. */
  ok: boolean;
  /** Epoch ms when the attempt started. */
  startedAt: number;
  /** Wall time of the attempt in ms. */
  durationMs: number;
  /** Response status, when a response arrived. */
  statusCode: number | null;
  /** Set when ok is false. */
  failure: Classification | null;
  /** Parsed Retry-After in ms (429/503 only), or null. */
  retryAfterMs: number | null;
  /** True when the attempt was cut short by our own shutdown or handed back unsent: not a failure, the lease is released. */
  aborted: boolean;
  /** A short, log-safe description of the underlying error. */
  error: string | null;
  /**
   * The first bytes of the response body (at most RESPONSE_PREFIX_BYTES), when a response came.
   * A Buffer where it was read; a plain Uint8Array once it has crossed from the delivery thread.
   */
  responseBody?: Uint8Array | null;
  /** Response body bytes received in all (the prefix may be shorter). */
  responseSize?: number | null;
}

/** How much of each upstream response body is kept with its attempt. */
export const RESPONSE_PREFIX_BYTES = 4096;

/** What /stats, /metrics and alerts show of a route's limiter. */
export interface ThrottleStatus {
  /** The configured rate as written (e.g. "50/s"), or null without rate_limit. */
  rate: string | null;
  /** The configured rate per second, or null. */
  ratePerSecond: number | null;
  burst: number | null;
  /** The rate in force now, per second (null: unlimited). */
  currentPerSecond: number | null;
  throttled: boolean;
  /** ISO time a Retry-After pause ends, or null. */
  until: string | null;
  why: string | null;
  /** ISO time the current episode started, or null. */
  since: string | null;
}

/**
 * A route's delivery as every view shows it (/stats `routes[]`, /routes, /metrics), read from the
 * deliverer: its gate, and its rate limit and throttle with the due events they hold back now.
 */
export interface RouteDelivery {
  name: string;
  state: GateState;
  /** Method-style record while the breaker holds the gate open, else null. */
  disabled: DisabledRecord | null;
  throttle: ThrottleStatus & {
    /** Due events not started because a rate or a pause applies (counted on each read, capped). */
    held: number;
  };
}
