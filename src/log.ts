import pino, { type DestinationStream, type Logger } from "pino";

/**
 * Request headers that carry credentials or provider signatures. A signature is not a secret, but
 * with the body it lets anyone replay the webhook, so it is kept out of logs all the same.
 */
export const SENSITIVE_HEADERS = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "x-line-signature",
  "x-hub-signature",
  "x-hub-signature-256",
  "stripe-signature",
  "x-shopify-hmac-sha256",
  "x-slack-signature",
  "webhook-signature",
] as const;

/** Any header whose name says it is a credential (covers the `hmac` scheme's configurable header). */
const SENSITIVE_NAME = /authorization|cookie|signature|secret|token|hmac|api[-_]?key|password/i;

const CENSOR = "[redacted]";

const headerPaths = (prefix: string) => SENSITIVE_HEADERS.map((h) => `${prefix}["${h}"]`);

/**
 * Paths pino removes from every log line: credentials and provider signatures must never reach
 * logs, whatever object a caller passes. Nothing in src logs headers, bodies or the config today;
 * these make a future mistake harmless rather than relying on every call site.
 */
export const REDACT_PATHS = [
  "token",
  "secret",
  "secrets",
  "password",
  "adminToken",
  "*.token",
  "*.secret",
  "*.secrets",
  "*.password",
  "*.adminToken",
  "*.*.token",
  "*.*.secret",
  "*.*.secrets",
  // A whole resolved config: route secrets sit in arrays, and alert URLs often embed a token
  // (Slack incoming-webhook URLs are themselves the credential).
  "routes[*].verify.secrets",
  "*.routes[*].verify.secrets",
  "alerts[*].url",
  "*.alerts[*].url",
  // Webhook bodies hold personal data (and undici's ResponseError carries the upstream's body).
  "body",
  "*.body",
  ...headerPaths("headers"),
  ...headerPaths("req.headers"),
  ...headerPaths("request.headers"),
  ...headerPaths("*.headers"),
];

/**
 * Headers logged under `headers` are censored by name, whether they come as an object or as the
 * raw `[name, value]` pairs ingest stores (which path redaction cannot address).
 */
export function redactHeaders(headers: unknown): unknown {
  if (Array.isArray(headers)) {
    return headers.map((pair: unknown) =>
      Array.isArray(pair) && typeof pair[0] === "string" && SENSITIVE_NAME.test(pair[0])
        ? [pair[0], CENSOR]
        : pair,
    );
  }
  if (headers !== null && typeof headers === "object") {
    return Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, SENSITIVE_NAME.test(k) ? CENSOR : v]),
    );
  }
  return headers;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;

/**
 * Applies `redactHeaders` to every `headers` property within a few levels of a log object
 * (`{ req: { headers } }`, `{ event: { headers } }`), copying rather than mutating the caller's
 * objects. Errors are left to pino's serializer and the `*.headers` paths.
 */
export function scrubHeaders(obj: Record<string, unknown>, depth = 0): Record<string, unknown> {
  let copy: Record<string, unknown> | null = null;
  for (const [key, value] of Object.entries(obj)) {
    let next = value;
    if (key === "headers") next = redactHeaders(value);
    else if (depth < 3 && isPlainObject(value)) next = scrubHeaders(value, depth + 1);
    if (next !== value) {
      copy ??= { ...obj };
      copy[key] = next;
    }
  }
  return copy ?? obj;
}

export interface LoggerOptions {
  level: string;
  /** Where lines go (tests capture them); stdout by default. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: "hookbuffer" },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      formatters: { log: (obj) => scrubHeaders(obj) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
