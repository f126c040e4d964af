import type { RouteConfig } from "../config/types.js";
import { forwardHeaders, targetUrl } from "../deliver/headers.js";
import { requestTarget } from "../deliver/send.js";
import type { Upstream } from "../deliver/upstream.js";
import { resolvePointer } from "../json-pointer.js";
import type { CapturedRequest } from "../model.js";
import { headerGetter, lazyJson } from "./keys.js";
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
}

const UNSIGNED: Handshake = { verify: false };
const SIGNED: Handshake = { verify: true };

/** Whether a request is a handshake to proxy synchronously rather than buffer, and how. */
export function matchHandshake(route: RouteConfig, req: CapturedRequest): Handshake | null {
  if (ALWAYS.has(req.method)) return UNSIGNED;
  if (route.passthrough.length === 0) return null;
  const json = lazyJson(req.body);
  const header = headerGetter(req.headers);
  const rel =
    route.pathPrefix === "/" ? req.path : req.path.slice(route.pathPrefix.replace(/\/$/, "").length) || "/";
  const match = route.passthrough.find(
    (m) =>
      (m.method === undefined || m.method === req.method) &&
      (m.path === undefined ||
        rel === m.path ||
        rel.startsWith(m.path.endsWith("/") ? m.path : `${m.path}/`)) &&
      (m.json === undefined || resolvePointer(json(), m.json.pointer) === m.json.equals) &&
      (m.header === undefined || header(m.header.name) === m.header.equals),
  );
  if (!match) return null;
  return match.verify === false ? UNSIGNED : SIGNED;
}

/** Response headers that belong to one hop, not to the message (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer"]);

export interface PassthroughDeps {
  upstreams: Map<string, Upstream>;
  /** The routes' signature check, applied to handshakes that call for it. */
  checkSignature: SignatureCheck;
}

/**
 * Proxies a handshake to the route's upstream within the attempt timeout and relays status,
 * headers and body. Not stored and not counted as a webhook; an unreachable upstream is a 502.
 * A handshake that calls for the signature check and fails it gets 401 and goes nowhere, so a
 * passthrough match is not a way around `verify:`.
 */
export function createPassthrough(deps: PassthroughDeps) {
  return async function passthrough(
    route: RouteConfig,
    req: CapturedRequest,
    handshake: Handshake,
  ): Promise<Response> {
    const verified: Array<[string, string]> = [];
    if (handshake.verify && route.verify) {
      const rejection = deps.checkSignature(route, req);
      if (rejection) {
        const { code, message } = rejection;
        return Response.json({ error: { code, message } }, { status: rejection.status ?? 401 });
      }
      // Same promise as for a replayed webhook: only hookbuffer sets this header.
      verified.push(["X-Hookbuffer-Verified", route.verify.scheme]);
    }
    const upstream = deps.upstreams.get(route.name);
    if (!upstream) throw new Error(`no upstream for route ${route.name}`);
    try {
      const res = await upstream.dispatcher.request({
        origin: new URL(route.upstream).origin,
        path: requestTarget(targetUrl(route.upstream, route.pathPrefix, req.path, req.query)),
        method: req.method as "GET",
        headers: forwardHeaders(req.headers, verified).flat(),
        body: req.method === "GET" || req.method === "HEAD" ? null : req.body,
        headersTimeout: route.timeoutMs,
        bodyTimeout: route.timeoutMs,
        signal: AbortSignal.timeout(route.timeoutMs),
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (HOP_BY_HOP.has(name) || name === "content-length" || value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
      }
      const status = res.statusCode;
      return new Response(status === 204 || status === 304 || req.method === "HEAD" ? null : body, {
        status,
        headers,
      });
    } catch (err) {
      const message = `upstream did not answer the handshake: ${(err as Error).message}`;
      return Response.json({ error: { code: "bad_gateway", message } }, { status: 502 });
    }
  };
}
