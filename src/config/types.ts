import type { AlertEvent } from "./alert-events.js";
/**
 * The resolved configuration every other module receives: durations in ms, sizes in bytes, per-route
 * delivery settings already merged over the global `delivery` block. Produced by `loadConfig`.
 */

export type Synchronous = "full" | "normal";

export type RetryPolicy =
  | {
      kind: "schedule";
      /** Delay before each attempt: [0] before the first, [1] after the first failure, ... */
      delaysMs: number[];
      /** Longest wait a Retry-After header or a route-wide throttle may impose (ms). */
      maxDelayMs: number;
      /** Give up once the event is older than this (ms), or null for no bound. */
      maxAgeMs: number | null;
    }
  | {
      kind: "exponential";
      /** Delay after the first failure (ms). */
      baseMs: number;
      /** Multiplier per further failure. */
      factor: number;
      /** Cap on one delay, Retry-After and route-wide throttles included (ms). */
      maxDelayMs: number;
      /** Total attempts, the first included. */
      maxAttempts: number;
      /** Relative jitter, 0.2 = ±20 %. */
      jitter: number;
      /** Give up once the event is older than this (ms), or null for no bound. */
      maxAgeMs: number | null;
    };

export type Ordering =
  | { kind: "none" }
  | { kind: "fifo" }
  /** FIFO per value of a JSON pointer into the body. */
  | { kind: "key"; pointer: string };

export type DedupSource =
  /** The header's value; `aliases` are read in order when `name` is absent (a provider's other spelling). */
  | { kind: "header"; name: string; aliases?: readonly string[] }
  | { kind: "json"; pointer: string }
  /** LINE: the sorted set of every `/events/N/webhookEventId` in the body. */
  | { kind: "line" };

export interface DedupConfig {
  source: DedupSource;
  /** How long a key is remembered (ms). */
  windowMs: number;
}

export type VerifyScheme = "line" | "github" | "stripe" | "shopify" | "slack" | "standard-webhooks" | "hmac";

export interface VerifyConfig {
  scheme: VerifyScheme;
  /** One or more secrets; any match passes (rotation). */
  secrets: string[];
  /** Allowed clock skew for timestamped schemes (ms). */
  toleranceMs: number;
  /** hmac only: header carrying the signature. */
  header?: string;
  /** hmac only. */
  algorithm?: "sha1" | "sha256" | "sha512";
  /** hmac only. */
  encoding?: "hex" | "base64";
  /** hmac only: text before the signature in the header, e.g. "sha256=". */
  prefix?: string;
  /**
   * hmac only: the signature covers a Unix-seconds timestamp from this header, signed as
   * `before + timestamp + between + body`.
   */
  timestamp?: { header: string; before: string; between: string };
  /**
   * Replays carry a fresh timestamp and a signature made with the first secret (schemes with a
   * signed timestamp only; the config sets it false or leaves it out for the others).
   */
  resign?: boolean;
}

export interface PassthroughMatch {
  /** Upper-case method to match, or undefined for any. */
  method?: string;
  /** Path prefix to match, relative to the route's path, or undefined for any. */
  path?: string;
  /** A JSON pointer into the body and the string value it must equal. */
  json?: { pointer: string; equals: string };
  /** A request header (lower-case name) and the value it must equal, e.g. GitHub's `x-github-event: ping`. */
  header?: { name: string; equals: string };
  /**
   * false: proxied without the route's signature check, for a provider that does not sign its
   * handshake. Otherwise a route with `verify:` checks a matched request like any webhook.
   */
  verify?: false;
}

/** A value a delivery filter compares with: JSON scalars, as written in the config. */
export type FilterValue = string | number | boolean | null;

/** Where one filter condition reads its value from. */
export type FilterSource =
  /** A JSON pointer into the body (a body that is not JSON has no values). */
  | { kind: "json"; pointer: string }
  /** A request header, lower-case name; the first value counts. */
  | { kind: "header"; name: string };

/** How the value must look. */
export type FilterTest =
  /** Equal as a JSON value (`1` is not `"1"`); a header's text equals a number or boolean's text. */
  | { op: "equals"; value: FilterValue }
  /** Equal to one of these, each as for `equals`. */
  | { op: "in"; values: FilterValue[] }
  /** `true`: present (JSON null counts as present); `false`: absent. */
  | { op: "exists"; value: boolean }
  /** A string starting with this text. */
  | { op: "prefix"; value: string };

/** One condition on a request: a source and a test. */
export interface FilterMatch {
  source: FilterSource;
  test: FilterTest;
}

/** `routes[].filter`: which acknowledged webhooks are delivered (README, Routes). */
export type DeliveryFilter =
  | { kind: "match"; match: FilterMatch }
  | { kind: "all"; of: DeliveryFilter[] }
  | { kind: "any"; of: DeliveryFilter[] }
  | { kind: "not"; of: DeliveryFilter };

export interface BreakerConfig {
  /** Consecutive failed attempts that open the breaker. 0 disables it. */
  failures: number;
  /** First cooldown before a probe (ms). */
  cooldownMs: number;
  /** Cap for the doubling cooldown (ms). */
  maxCooldownMs: number;
  /**
   * Which failed attempts count toward `failures`: outcome classes and single status codes. Any
   * other failure is neutral (it neither lengthens nor resets the run). Default: every class.
   */
  count: BreakerCount[];
}

/** An outcome class a failed attempt falls in, or one status code (e.g. 429). */
export type BreakerCount = "connect" | "timeout" | "unclassified" | "3xx" | "4xx" | "5xx" | number;

export interface RateLimit {
  /** Sustained attempts per second. */
  perSecond: number;
  /** Attempts that may start back to back after an idle spell (the bucket's size). */
  burst: number;
  /** The rate as written, e.g. "600/m", for /stats. */
  text: string;
}

export interface RouteConfig {
  /** Unique name used in stats, metrics and the admin API. */
  name: string;
  /** Path prefix matched at ingest ("/" for the default route). */
  pathPrefix: string;
  /** Absolute http(s) URL the route delivers to. */
  upstream: string;
  /** Per-attempt deadline (ms). */
  timeoutMs: number;
  /** TCP/TLS connect deadline (ms), never above timeoutMs. */
  connectTimeoutMs: number;
  /** DNS lookup deadline (ms). */
  dnsTimeoutMs: number;
  /** Deliveries in flight at once. */
  concurrency: number;
  /** Attempts started per unit of time (a token bucket on top of concurrency), or null. */
  rateLimit: RateLimit | null;
  retry: RetryPolicy;
  /** Status codes that dead-letter at once. */
  permanentStatuses: number[];
  breaker: BreakerConfig;
  ordering: Ordering;
  dedup: DedupConfig | null;
  verify: VerifyConfig | null;
  /** Requests proxied synchronously instead of buffered (GET and HEAD always are). */
  passthrough: PassthroughMatch[];
  /**
   * Which GET/HEAD/OPTIONS requests are proxied to the upstream: all (the default), none
   * (`passthrough: false`), or those under these paths, relative to the route (`handshake_paths`).
   * The others get 405.
   */
  handshakes: "all" | "none" | string[];
  /** Let undici negotiate HTTP/2 with the upstream. */
  http2: boolean;
  /** Body pointers with a search index (an SQLite expression index on this route's rows). */
  index: string[];
  /**
   * Which webhooks are delivered; the others are stored as `filtered` and acknowledged all the
   * same. null: every webhook is delivered.
   */
  filter: DeliveryFilter | null;
}

export interface AlertConfig {
  url: string;
  events: AlertEvent[];
  /** backlog_age threshold (ms). */
  backlogAgeMs: number;
}

/** OpenTelemetry export (README, Tracing); present only when an endpoint is configured. */
export interface TracingConfig {
  /** The OTLP/HTTP traces URL spans are posted to (JSON). */
  endpoint: string;
  /** `service.name` of the exported resource. */
  serviceName: string;
  /** Share of new traces recorded, 0..1; a continued trace follows its caller's sampled flag. */
  sampleRatio: number;
  /** Extra headers on every export request (e.g. a vendor's API key). */
  headers: Record<string, string>;
}

export interface Config {
  listen: {
    host: string;
    port: number;
    /** Largest accepted body (bytes); larger gets 413. */
    bodyLimitBytes: number;
    /** Node's headersTimeout against slow clients (ms). */
    headersTimeoutMs: number;
    /** Node's requestTimeout against slow clients (ms). */
    requestTimeoutMs: number;
    /** Largest total header size (bytes). */
    maxHeaderBytes: number;
    /** Most header fields in one request; more gets 431 (never a silent truncation). */
    maxHeaders: number;
  };
  admin: {
    host: string;
    port: number;
    /** Bearer token (surrounding whitespace trimmed); required when host is not loopback. */
    token: string | null;
    /** Most events one bulk redelivery may change; more is refused. */
    redeliverMax: number;
    /** `Host` names accepted besides loopback ones (DNS-rebinding guard). */
    allowedHosts: string[];
  };
  storage: {
    /** SQLite only: the database file. */
    path: string;
    /** SQLite only. */
    synchronous: Synchronous;
    /** PostgreSQL connection URL (it may hold a password: log it only through redactDatabaseUrl), or null for SQLite. */
    url: string | null;
    /** PostgreSQL only: the schema holding hookbuffer's tables. */
    schema: string;
    /** PostgreSQL only: connections per replica. */
    poolSize: number;
    /** Backpressure: refuse ingest above this many pending events, or null. */
    maxPending: number | null;
    /** Backpressure: refuse ingest above this many bytes held by undelivered events (bodies and kept responses), or null. */
    maxBytes: number | null;
    /** SQLite only. Storage fault cap: the database file may not grow past this many bytes, or null. */
    maxDbSize: number | null;
    retention: {
      /** Age after which delivered events are pruned (ms). */
      deliveredMs: number;
      /** Age after which dead events are pruned (ms). */
      deadMs: number;
      /** Age after which per-minute stat buckets are pruned (ms). */
      statsMs: number;
    };
  };
  /** Always at least one; without `routes:` a single route "default" at "/". */
  routes: RouteConfig[];
  alerts: AlertConfig[];
  /** Replay webhooks from a worker thread (false: from the main thread, beside ingest). */
  deliveryThread: boolean;
  /** null: tracing off, and the OpenTelemetry SDK is never loaded. */
  tracing: TracingConfig | null;
  log: { level: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent" };
}
