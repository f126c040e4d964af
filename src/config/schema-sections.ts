/**
 * The process-wide sections (`listen`, `admin`, `alerts`, `log`; `storage` is in schema-storage.ts). Each resolves its own
 * defaults and checks, so their problems are reported even when another section is invalid.
 */
import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import { ALERT_EVENTS } from "./alert-events.js";
import {
  DEFAULT_ADMIN,
  DEFAULT_ALERT_BACKLOG_AGE_MS,
  DEFAULT_ALERT_EVENTS,
  DEFAULT_LISTEN,
  DEFAULT_LOG_LEVEL,
} from "./defaults.js";
import { httpUrl, integer, looseEnum, port, positiveDuration, size } from "./schema-fields.js";
import type { AlertConfig, Config } from "./types.js";

const host = z.string().trim().min(1, { message: "must not be empty" });

export const listenSchema = z
  .strictObject({
    host: host.optional(),
    port: port.optional(),
    body_limit: size.optional(),
    headers_timeout: positiveDuration.optional(),
    request_timeout: positiveDuration.optional(),
    max_header_size: size.optional(),
    max_headers: integer(1, 100_000).optional(),
  })
  .transform((listen, ctx): Config["listen"] => {
    const resolved: Config["listen"] = {
      host: listen.host ?? DEFAULT_LISTEN.host,
      port: listen.port ?? DEFAULT_LISTEN.port,
      bodyLimitBytes: listen.body_limit ?? DEFAULT_LISTEN.bodyLimitBytes,
      headersTimeoutMs: listen.headers_timeout ?? DEFAULT_LISTEN.headersTimeoutMs,
      requestTimeoutMs: listen.request_timeout ?? DEFAULT_LISTEN.requestTimeoutMs,
      maxHeaderBytes: listen.max_header_size ?? DEFAULT_LISTEN.maxHeaderBytes,
      maxHeaders: listen.max_headers ?? DEFAULT_LISTEN.maxHeaders,
    };
    // Node's http.createServer throws when headersTimeout exceeds requestTimeout; say so here instead.
    if (resolved.headersTimeoutMs > resolved.requestTimeoutMs) {
      ctx.addIssue({
        code: "custom",
        path: ["headers_timeout"],
        message: "must not exceed listen.request_timeout",
      });
    }
    return resolved;
  });

/** 127.0.0.0/8, ::1 (in any spelling, also IPv4-mapped) and `localhost`: only this machine reaches them. */
export function isLoopback(address: string): boolean {
  const host = address
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  if (host === "localhost") return true;
  if (isIPv4(host)) return host.startsWith("127.");
  if (!isIPv6(host)) return false;
  // The WHATWG URL parser canonicalises IPv6, e.g. 0:0:0:0:0:0:0:1 -> ::1, ::ffff:127.0.0.1 -> ::ffff:7f00:1.
  const canonical = new URL(`http://[${host}]/`).hostname;
  return canonical === "[::1]" || canonical.startsWith("[::ffff:7f");
}

export const adminSchema = z
  .strictObject({
    host: host.optional(),
    port: port.optional(),
    // A token read from a file or a secret mount usually ends in a newline no client would send.
    token: z
      .string()
      .transform((token) => token.trim())
      .pipe(z.string().min(1, { message: "must not be empty (use null for no token)" }))
      .nullable()
      .optional(),
    allowed_hosts: z
      .array(
        z
          .string()
          .trim()
          .toLowerCase()
          .regex(/^[a-z0-9.:[\]-]+$/, { message: "expected a host name without port or scheme" }),
      )
      .optional(),
    redeliver_max: integer(1).optional(),
  })
  .transform((admin, ctx): Config["admin"] => {
    const resolved: Config["admin"] = {
      host: admin.host ?? DEFAULT_ADMIN.host,
      port: admin.port ?? DEFAULT_ADMIN.port,
      token: admin.token ?? DEFAULT_ADMIN.token,
      redeliverMax: admin.redeliver_max ?? DEFAULT_ADMIN.redeliverMax,
      allowedHosts: [...new Set(admin.allowed_hosts ?? DEFAULT_ADMIN.allowedHosts)],
    };
    // The admin API can redeliver and discard events; off this machine it must not be open.
    if (resolved.token === null && !isLoopback(resolved.host)) {
      ctx.addIssue({
        code: "custom",
        path: ["token"],
        message: `required when admin.host (${resolved.host}) is not a loopback address`,
      });
    }
    return resolved;
  });

export const alertSchema = z
  .strictObject({
    url: httpUrl,
    events: z.array(z.enum(ALERT_EVENTS)).min(1).optional(),
    backlog_age: positiveDuration.optional(),
  })
  .transform(
    (alert): AlertConfig => ({
      url: alert.url,
      events: [...new Set(alert.events ?? DEFAULT_ALERT_EVENTS)],
      backlogAgeMs: alert.backlog_age ?? DEFAULT_ALERT_BACKLOG_AGE_MS,
    }),
  );

export const logSchema = z
  .strictObject({
    level: looseEnum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).optional(),
  })
  .transform((log): Config["log"] => ({ level: log.level ?? DEFAULT_LOG_LEVEL }));
