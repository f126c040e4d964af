import pino, { type DestinationStream, type Logger } from "pino";

/**
 * Paths pino removes from every log line: credentials and provider signatures must never reach
 * logs, whatever object a caller passes.
 */
export const REDACT_PATHS = [
  "token",
  "secret",
  "secrets",
  "*.token",
  "*.secret",
  "*.secrets",
  "*.*.token",
  "*.*.secret",
  "*.*.secrets",
  "headers.authorization",
  "headers.cookie",
  'headers["set-cookie"]',
  'headers["x-line-signature"]',
  'headers["x-hub-signature"]',
  'headers["x-hub-signature-256"]',
  'headers["stripe-signature"]',
  'headers["x-shopify-hmac-sha256"]',
  'headers["x-slack-signature"]',
  'headers["webhook-signature"]',
  "req.headers.authorization",
  "req.headers.cookie",
];

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
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
