import type { RouteConfig } from "../config/types.js";
import { forwardHeaders, targetUrl } from "../deliver/headers.js";
import { requestTarget } from "../deliver/send.js";
import type { Upstream } from "../deliver/upstream.js";
import { resolvePointer } from "../json-pointer.js";
import type { CapturedRequest } from "../model.js";
import { lazyJson } from "./keys.js";

/** GET and HEAD are never webhooks: they are endpoint checks (Meta's hub.challenge and similar). */
const ALWAYS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether a request is a handshake to proxy synchronously rather than buffer. */
export function isPassthrough(route: RouteConfig, req: CapturedRequest): boolean {
  if (ALWAYS.has(req.method)) return true;
  if (route.passthrough.length === 0) return false;
  const json = lazyJson(req.body);
  const rel =
    route.pathPrefix === "/" ? req.path : req.path.slice(route.pathPrefix.replace(/\/$/, "").length) || "/";
  return route.passthrough.some(
    (m) =>
      (m.method === undefined || m.method === req.method) &&
      (m.path === undefined ||
        rel === m.path ||
        rel.startsWith(m.path.endsWith("/") ? m.path : `${m.path}/`)) &&
      (m.json === undefined || resolvePointer(json(), m.json.pointer) === m.json.equals),
  );
}

/** Response headers that belong to one hop, not to the message (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer"]);

/**
 * Proxies a handshake to the route's upstream within the attempt timeout and relays status,
 * headers and body. Not stored and not counted as a webhook; an unreachable upstream is a 502.
 */
export function createPassthrough(upstreams: Map<string, Upstream>) {
  return async function passthrough(route: RouteConfig, req: CapturedRequest): Promise<Response> {
    const upstream = upstreams.get(route.name);
    if (!upstream) throw new Error(`no upstream for route ${route.name}`);
    try {
      const res = await upstream.dispatcher.request({
        origin: new URL(route.upstream).origin,
        path: requestTarget(targetUrl(route.upstream, route.pathPrefix, req.path, req.query)),
        method: req.method as "GET",
        headers: forwardHeaders(req.headers, []).flat(),
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
