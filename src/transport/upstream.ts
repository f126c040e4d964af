/**
 * One undici Pool per route: keep-alive connections to the route's upstream origin, sized to the
 * route's concurrency, with connect and DNS deadlines of their own so that each stage of a failed
 * attempt is classified by what actually stalled.
 */
import dns from "node:dns";
import type { LookupFunction } from "node:net";
import { type Dispatcher, Pool } from "undici";
import { DnsTimeoutError } from "../classify/errors.js";
import type { RouteConfig } from "../config/types.js";

/** The route's connection pool toward its upstream. */
export interface Upstream {
  /** Pass to `send`; bound to the upstream's origin, whatever URL a request names. */
  dispatcher: Dispatcher;
  /** Lets in-flight requests finish, then closes every connection. */
  close(): Promise<void>;
  /** Fails in-flight requests with UND_ERR_DESTROYED (a shutdown abort, not a failure) and closes. */
  destroy(): Promise<void>;
}

export type UpstreamRoute = Pick<
  RouteConfig,
  "upstream" | "concurrency" | "connectTimeoutMs" | "dnsTimeoutMs" | "timeoutMs" | "http2"
>;

/** Test seams; production passes none. */
export interface UpstreamOptions {
  /** Resolver to wrap with the DNS deadline (default dns.lookup). */
  lookup?: LookupFunction;
  /** Extra trust for TLS upstreams (a test's self-signed CA). */
  tls?: { ca?: string | Buffer };
}

/**
 * Wraps a resolver with a deadline. getaddrinfo runs on libuv's thread pool and cannot be
 * cancelled, so a hung resolver would otherwise hold the connect until undici's connect timeout
 * and be misreported as "Connection timeout". A late answer is ignored.
 */
export function lookupWithDeadline(lookup: LookupFunction, timeoutMs: number): LookupFunction {
  return function lookupWithDeadline(hostname, options, callback) {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      callback(new DnsTimeoutError(hostname, timeoutMs), options.all === true ? [] : "");
    }, timeoutMs);
    lookup(hostname, options, (err, address, family) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      callback(err, address, family);
    });
  };
}

/**
 * Creates the pool. Throws on an upstream that is not an absolute http(s) URL (config validation
 * rejects those first). Redirects are never followed: a bare Pool has no redirect interceptor, so
 * a 3xx is just a response (README, Delivery policy).
 */
export function createUpstream(route: UpstreamRoute, options: UpstreamOptions = {}): Upstream {
  const url = new URL(route.upstream);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`upstream must be an http(s) URL, got ${url.protocol}`);
  }
  // dns.lookup's overloads do not narrow to LookupFunction on their own.
  const lookup = options.lookup ?? (dns.lookup as LookupFunction);
  const pool = new Pool(url.origin, {
    // One connection per concurrent delivery, so no attempt queues behind another in the pool.
    connections: Math.max(1, route.concurrency),
    // No pipelining: a failure on one request must not take the ones behind it down (RFC 9112 §9.3.2).
    pipelining: 1,
    allowH2: route.http2,
    connect: {
      timeout: route.connectTimeoutMs,
      lookup: lookupWithDeadline(lookup, route.dnsTimeoutMs),
      ...(options.tls?.ca === undefined ? {} : { ca: options.tls.ca }),
    },
    // Backstops only: send's own deadline (the same length, started earlier) normally fires first.
    headersTimeout: route.timeoutMs,
    bodyTimeout: route.timeoutMs,
  });
  return {
    dispatcher: pool,
    close: () => pool.close(),
    destroy: () => pool.destroy(),
  };
}
