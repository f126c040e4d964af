import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { isLoopback } from "../config/index.js";
import { apiError, errorResponse } from "../http/errors.js";

/** Largest admin request body: the API takes small JSON filters, never uploads. */
export const ADMIN_BODY_LIMIT = 64 * 1024;

export interface AdminGuardOptions {
  /** `admin.allowed_hosts`: extra `Host` names accepted besides loopback ones. */
  allowedHosts: string[];
  /** `admin.host`, accepted as a `Host` name too when it is a specific address. */
  bindHost: string;
  /** Whether a bearer token is configured. */
  tokenSet: boolean;
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** The host name of a `Host` value, without port or IPv6 brackets, lower-cased. */
function hostName(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith("["))
    return lower.slice(1, lower.indexOf("]") === -1 ? undefined : lower.indexOf("]"));
  const colon = lower.lastIndexOf(":");
  return colon === -1 ? lower : lower.slice(0, colon);
}

/**
 * DNS rebinding: a page whose name now resolves to 127.0.0.1 reads the API as same-origin. Only
 * loopback and configured `Host` names pass, so a foreign name is refused. Without
 * `allowed_hosts` and with a token, any Host passes: the browser never holds the token for the
 * rebound origin, and probes or scrapers address the listener by pod IP (docs/security.md#admin-listener).
 */
export function hostGuard(options: AdminGuardOptions): MiddlewareHandler {
  const allowed = new Set(options.allowedHosts.map((h) => h.toLowerCase().replace(/^\[(.*)\]$/, "$1")));
  const bind = hostName(options.bindHost);
  if (bind !== "0.0.0.0" && bind !== "::" && bind !== "") allowed.add(bind);
  const checkHost = !options.tokenSet || options.allowedHosts.length > 0;
  return async function hostGuard(c, next) {
    if (!checkHost) return next();
    const host = c.req.header("host") ?? "";
    const name = hostName(host);
    if (isLoopback(name) || allowed.has(name)) return next();
    throw apiError(
      403,
      "forbidden_host",
      `Host ${JSON.stringify(host.slice(0, 100))} is not allowed; list it in admin.allowed_hosts`,
    );
  };
}

/**
 * Cross-site requests: a form or `fetch(..., {mode: "no-cors"})` can POST without reading the
 * answer. Calls that change something must be same-origin by `Origin` and `Sec-Fetch-Site`, and
 * must say `Content-Type: application/json`, which no cross-site page can send without a CORS
 * preflight that this listener never grants.
 */
export function crossSiteGuard(): MiddlewareHandler {
  return async function crossSiteGuard(c, next) {
    if (SAFE.has(c.req.method)) return next();
    const site = c.req.header("sec-fetch-site");
    const host = c.req.header("host") ?? "";
    if (
      (site !== undefined && site !== "same-origin" && site !== "none") ||
      !sameOrigin(c.req.header("origin"), host)
    ) {
      throw apiError(403, "cross_site", "cross-site requests may not change anything on the admin API");
    }
    const media = (c.req.header("content-type") ?? "").split(";", 1)[0]?.trim().toLowerCase();
    if (media !== "application/json") {
      throw apiError(
        415,
        "unsupported_media_type",
        "requests that change something must send Content-Type: application/json",
      );
    }
    return next();
  };
}

/** No Origin (CLI, curl) passes; a present one must name this very host. `null` never does. */
function sameOrigin(origin: string | undefined, host: string): boolean {
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === host.trim().toLowerCase();
  } catch {
    return false;
  }
}

/** Admin bodies beyond ADMIN_BODY_LIMIT get 413 and the connection is closed, nothing buffered. */
export function adminBodyLimit(maxSize = ADMIN_BODY_LIMIT): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    // The hook must answer with a Response; the body limit is hit while a handler reads the body.
    onError: () =>
      errorResponse(413, "payload_too_large", `request body exceeds the limit of ${maxSize} bytes`, {
        Connection: "close",
      }),
  });
}
