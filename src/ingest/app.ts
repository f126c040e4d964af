import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import type { RouteConfig } from "../config/types.js";
import type { CapturedRequest } from "../model.js";
import {
  BadRequestTargetError,
  BodyTooLargeError,
  captureFetch,
  captureNode,
  TooManyHeadersError,
} from "./capture.js";
import type { Handshake } from "./passthrough.js";
import { pathProblem } from "./path-form.js";
import { createRouteMatcher } from "./routes.js";
import type { Ingestor } from "./service.js";
import { ingestStatus } from "./status.js";

/** Proxies a handshake request to the upstream synchronously and returns its response. */
export type Passthrough = (
  route: RouteConfig,
  req: CapturedRequest,
  handshake: Handshake,
) => Promise<Response>;
/** Whether a request is a handshake to pass through rather than a webhook to buffer. */
export type HandshakeMatcher = (route: RouteConfig, req: CapturedRequest) => Handshake | null;

export interface IngestAppDeps {
  routes: RouteConfig[];
  accept: Ingestor;
  /** Largest accepted body in bytes. */
  bodyLimit: number;
  /** Most header fields a request may carry (`listen.max_headers`); more is a 431. */
  maxHeaders?: number;
  matchHandshake: HandshakeMatcher;
  passthrough: Passthrough;
  /** Seconds a provider is asked to wait before retrying after a 503. */
  retryAfterSeconds?: number;
}

type Env = { Bindings: Partial<HttpBindings> };

const error = (code: string, message: string) => ({ error: { code, message } });

/**
 * The provider-facing listener. Everything here is transport: capture, match a route, hand over
 * to the ingestor or the passthrough proxy, and map the outcome to a status code.
 */
export function createIngestApp(deps: IngestAppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const matchRoute = createRouteMatcher(deps.routes);
  const retryAfter = String(deps.retryAfterSeconds ?? 5);

  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.all("*", async function ingest(c) {
    const path = c.env?.incoming?.url ?? new URL(c.req.url).pathname;
    let req: CapturedRequest;
    try {
      req = c.env?.incoming
        ? await captureNode(c.env.incoming, deps.bodyLimit, deps.maxHeaders)
        : await captureFetch(c.req.raw, deps.bodyLimit);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        c.header("Connection", "close");
        return c.json(error("payload_too_large", err.message), 413);
      }
      if (err instanceof TooManyHeadersError) {
        c.header("Connection", "close");
        return c.json(error("too_many_headers", err.message), 431);
      }
      if (err instanceof BadRequestTargetError) return c.json(error("bad_request", err.message), 400);
      throw err;
    }
    // The route is matched on the path as received, which is also what is replayed; a path the
    // upstream could read differently is refused rather than matched (README "Security").
    const problem = pathProblem(req.path);
    if (problem !== null)
      return c.json(error("bad_path", `request path is not in normal form: ${problem}`), 400);
    const route = matchRoute(req.path);
    if (!route) return c.json(error("no_route", `no route matches ${req.path.slice(0, 200) || path}`), 404);
    const handshake = deps.matchHandshake(route, req);
    if (handshake) return deps.passthrough(route, req, handshake);

    const result = await deps.accept(route, req);
    switch (result.kind) {
      case "accepted":
        return c.json(
          { status: result.filtered ? "filtered" : "accepted", id: result.id },
          ingestStatus(result),
        );
      case "duplicate":
        return c.json({ status: "duplicate", id: result.id }, ingestStatus(result));
      case "rejected":
        return c.json(error(result.code, result.message), ingestStatus(result));
      case "backpressure":
        c.header("Retry-After", retryAfter);
        return c.json(error("backpressure", result.message), ingestStatus(result));
      case "unavailable":
        c.header("Retry-After", retryAfter);
        return c.json(error("storage_unavailable", result.message), ingestStatus(result));
    }
  });

  app.onError((err, c) => c.json(error("internal", err.message), 500));
  return app;
}
