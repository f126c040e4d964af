import { Readable } from "node:stream";
import type { Logger } from "pino";
import type { FilterMatch, RouteConfig } from "../config/types.js";
import { errorResponse } from "../http/errors.js";
import type { CapturedRequest } from "../model.js";
import { forwardHeaders, targetUrl } from "../transport/headers.js";
import { requestTarget } from "../transport/send.js";
import type { Upstream } from "../transport/upstream.js";
import { matches, requestView } from "./match.js";
import type { SignatureCheck } from "./service.js";

/**
 * GET, HEAD and OPTIONS are never webhooks: they are endpoint checks (Meta's hub.challenge and
 * similar), which providers do not sign.
 */
const ALWAYS = new Set(["GET", "HEAD", "OPTIONS"]);

/** A request to proxy synchronously rather than buffer. */
export interface Handshake {
  /** Whether the route's signature check applies (a `passthrough:` match on a route with `verify:`). */
  verify: boolean;
  /** False for a GET/HEAD/OPTIONS the route does not proxy (`passthrough: false`, `handshake_paths`): 405. */
  proxy?: false;
}

const UNSIGNED: Handshake = { verify: false };
const SIGNED: Handshake = { verify: true };
const NOT_PROXIED: Handshake = { verify: false, proxy: false };

/** `rel` is `path` or lies under it at a segment boundary. */
const under = (rel: string, path: string) =>
  rel === path || rel.startsWith(path.endsWith("/") ? path : `${path}/`);

/** The request path relative to the route's prefix ("/" for the prefix itself). */
const relativePath = (route: RouteConfig, path: string) =>
  route.pathPrefix === "/" ? path : path.slice(route.pathPrefix.replace(/\/$/, "").length) || "/";

/** A passthrough `json:` or `header:` match as the condition shared with delivery filters. */
const jsonEquals = (m: { pointer: string; equals: string }): FilterMatch => ({
  source: { kind: "json", pointer: m.pointer },
  test: { op: "equals", value: m.equals },
});
const headerEquals = (m: { name: string; equals: string }): FilterMatch => ({
  source: { kind: "header", name: m.name },
  test: { op: "equals", value: m.equals },
});

/** Whether a request is a handshake to proxy synchronously rather than buffer, and how. */
export function matchHandshake(route: RouteConfig, req: CapturedRequest): Handshake | null {
  if (ALWAYS.has(req.method)) {
    const { handshakes } = route;
    if (handshakes === "all") return UNSIGNED;
    if (handshakes === "none") return NOT_PROXIED;
    const rel = relativePath(route, req.path);
    return handshakes.some((p) => under(rel, p)) ? UNSIGNED : NOT_PROXIED;
  }
  if (route.passthrough.length === 0) return null;
  const view = requestView(req);
  const rel = relativePath(route, req.path);
  const match = route.passthrough.find(
    (m) =>
      (m.method === undefined || m.method === req.method) &&
      (m.path === undefined || under(rel, m.path)) &&
      (m.json === undefined || matches(jsonEquals(m.json), view)) &&
      (m.header === undefined || matches(headerEquals(m.header), view)),
  );
  if (!match) return null;
  return match.verify === false ? UNSIGNED : SIGNED;
}

/** Response headers that belong to one hop, not to the message (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer"]);

export interface PassthroughDeps {
  upstreams: Map<string, Upstream>;
  /** Where the reason for a 502/504 goes; the client gets a generic body. */
  log: Logger;
  /** The routes' signature check, applied to handshakes that call for it. */
  checkSignature: SignatureCheck;
}

/**
 * Proxies a handshake to the route's upstream and relays status, headers and body. Not stored and
 * not counted as a webhook. The response body is streamed, never held whole, so a large download
 * costs a buffer rather than its size; the route's `delivery.timeout` bounds the whole exchange.
 * An upstream that cannot be reached gets a generic 502 (504 on timeout): its address and the
 * error stay in the log. A handshake that calls for the signature check and fails it gets 401 and
 * goes nowhere, so a passthrough match is not a way around `verify:`.
 */
export function createPassthrough(deps: PassthroughDeps) {
  return async function passthrough(
    route: RouteConfig,
    req: CapturedRequest,
    handshake: Handshake,
  ): Promise<Response> {
    if (handshake.proxy === false) {
      return errorResponse(
        405,
        "method_not_allowed",
        `${req.method} requests are not passed through on this path`,
        { Allow: "POST, PUT, PATCH, DELETE" },
      );
    }
    const verified: Array<[string, string]> = [];
    if (handshake.verify && route.verify) {
      const rejection = deps.checkSignature(route, req);
      if (rejection) return errorResponse(rejection.status ?? 401, rejection.code, rejection.message);
      // Same promise as for a replayed webhook: only hookbuffer sets this header.
      verified.push(["X-Hookbuffer-Verified", route.verify.scheme]);
    }
    const upstream = deps.upstreams.get(route.name);
    if (!upstream) throw new Error(`no upstream for route ${route.name}`);
    const signal = AbortSignal.timeout(route.timeoutMs);
    try {
      const res = await upstream.dispatcher.request({
        origin: new URL(route.upstream).origin,
        path: requestTarget(targetUrl(route.upstream, route.pathPrefix, req.path, req.query)),
        method: req.method as "GET",
        headers: forwardHeaders(req.headers, verified).flat(),
        body: req.method === "GET" || req.method === "HEAD" ? null : req.body,
        headersTimeout: route.timeoutMs,
        bodyTimeout: route.timeoutMs,
        signal,
      });
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (HOP_BY_HOP.has(name) || name === "content-length" || value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
      }
      const status = res.statusCode;
      if (status === 204 || status === 304 || req.method === "HEAD") {
        res.body.resume();
        return new Response(null, { status, headers });
      }
      // A stream error after the head (timeout, upstream reset) ends the client's response early.
      res.body.on("error", (err) =>
        deps.log.warn({ route: route.name, err }, "passthrough response from the upstream broke off"),
      );
      return new Response(Readable.toWeb(res.body) as ReadableStream<Uint8Array>, { status, headers });
    } catch (err) {
      deps.log.warn({ route: route.name, err }, "passthrough request to the upstream failed");
      if (signal.aborted || (err as { code?: string }).code === "UND_ERR_HEADERS_TIMEOUT") {
        return errorResponse(504, "gateway_timeout", "the upstream did not answer in time");
      }
      return errorResponse(502, "bad_gateway", "the upstream could not be reached");
    }
  };
}
