import { ALERT_EVENTS } from "./alert-events.js";
/**
 * Built-in defaults, the lowest configuration source. Kept in one place so config.example.yaml (whose
 * test loads it) and the code cannot quietly disagree about what "unset" means.
 */
import type { AlertConfig, Config, RetryPolicy, RouteConfig, TracingConfig } from "./types.js";

export const DEFAULT_LISTEN: Config["listen"] = {
  host: "0.0.0.0",
  port: 8080,
  bodyLimitBytes: 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 500,
};

export const DEFAULT_ADMIN: Config["admin"] = {
  host: "127.0.0.1",
  port: 9090,
  token: null,
  redeliverMax: 10_000,
  allowedHosts: [],
};

export const DEFAULT_STORAGE: Config["storage"] = {
  path: "./hookbuffer.db",
  synchronous: "full",
  url: null,
  schema: "public",
  poolSize: 10,
  maxPending: null,
  maxBytes: null,
  maxDbSize: null,
  retention: { deliveredMs: 7 * 86_400_000, deadMs: 30 * 86_400_000, statsMs: 90 * 86_400_000 },
};

/** Attempt at once, then after 30 s, 1 h, 6 h, 12 h and 24 h: about 43 h of patience in total. */
export const DEFAULT_SCHEDULE_MS: readonly number[] = [
  0, 30_000, 3_600_000, 21_600_000, 43_200_000, 86_400_000,
];

/** The longest wait a Retry-After header (or a route-wide throttle) may impose by default. */
export const DEFAULT_MAX_DELAY_MS = 3_600_000;

export const DEFAULT_EXPONENTIAL: Omit<Extract<RetryPolicy, { kind: "exponential" }>, "kind" | "maxAgeMs"> = {
  baseMs: 1_000,
  factor: 2,
  maxDelayMs: DEFAULT_MAX_DELAY_MS,
  maxAttempts: 10,
  jitter: 0.2,
};

/** Every class of failed attempt; by default each one counts toward the breaker. */
export const BREAKER_COUNT_CLASSES = ["connect", "timeout", "unclassified", "3xx", "4xx", "5xx"] as const;

/** The delivery keys a route inherits; arrays here are copied by the resolver, never shared. */
export type DeliveryDefaults = Pick<
  RouteConfig,
  | "timeoutMs"
  | "connectTimeoutMs"
  | "dnsTimeoutMs"
  | "concurrency"
  | "rateLimit"
  | "retry"
  | "permanentStatuses"
  | "breaker"
  | "ordering"
  | "dedup"
>;

export const DEFAULT_DELIVERY: Readonly<DeliveryDefaults> = {
  timeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  dnsTimeoutMs: 5_000,
  concurrency: 8,
  rateLimit: null,
  retry: {
    kind: "schedule",
    delaysMs: [...DEFAULT_SCHEDULE_MS],
    maxDelayMs: DEFAULT_MAX_DELAY_MS,
    maxAgeMs: null,
  },
  permanentStatuses: [],
  breaker: { failures: 5, cooldownMs: 30_000, maxCooldownMs: 600_000, count: [...BREAKER_COUNT_CLASSES] },
  ordering: { kind: "none" },
  dedup: null,
};

/** How long a dedup key is remembered when the config names a source but no window. */
export const DEFAULT_DEDUP_WINDOW_MS = 86_400_000;

/** Allowed clock skew for timestamped signature schemes (Stripe's and Slack's own default). */
export const DEFAULT_VERIFY_TOLERANCE_MS = 300_000;

/** Every alert event, unless `alerts[].events` names some. */
export const DEFAULT_ALERT_EVENTS: AlertConfig["events"] = [...ALERT_EVENTS];

export const DEFAULT_ALERT_BACKLOG_AGE_MS = 600_000;

export const DEFAULT_LOG_LEVEL: Config["log"]["level"] = "info";

/** Tracing is off unless `tracing.otlp_endpoint` is set; these fill in the rest when it is. */
export const DEFAULT_TRACING: Pick<TracingConfig, "serviceName" | "sampleRatio"> = {
  serviceName: "hookbuffer",
  sampleRatio: 1,
};
