import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import type { RouteConfig } from "../config/types.js";
import { apiError, createErrorRenderer, type UnexpectedErrorReport } from "../http/errors.js";
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
  /** Where an unexpected error goes; the caller gets a bare 500. */
  reportError?: UnexpectedErrorReport;
}

type Env = { Bindings: Partial<HttpBindings> };

/** Refusals after which the rest of the request is not read: the connection goes. */
const CLOSE = { Connection: "close" };

/**
 * The provider-facing listener. Everything here is transport: capture, match a route, hand over
 * to the ingestor or the passthrough proxy, and map the outcome to a status code. Refusals are
 * thrown and rendered by the shared `onError`; the 200 ack never throws.
 */
export function createIngestApp(deps: IngestAppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const matchRoute = createRouteMatcher(deps.routes);
  const retryAfter = { "Retry-After": String(deps.retryAfterSeconds ?? 5) };

  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.all("*", async function ingest(c) {
    const path = c.env?.incoming?.url ?? new URL(c.req.url).pathname;
    let req: CapturedRequest;
    try {
      req = c.env?.incoming
        ? await captureNode(c.env.incoming, deps.bodyLimit, deps.maxHeaders)
        : await captureFetch(c.req.raw, deps.bodyLimit);
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw apiError(413, "payload_too_large", err.message, CLOSE);
      if (err instanceof TooManyHeadersError) throw apiError(431, "too_many_headers", err.message, CLOSE);
      if (err instanceof BadRequestTargetError) throw apiError(400, "bad_request", err.message);
      throw err;
    }
    // The route is matched on the path as received, which is also what is replayed; a path the
    // upstream could read differently is refused rather than matched (docs/security.md#paths-are-matched-as-replayed).
    const problem = pathProblem(req.path);
    if (problem !== null) throw apiError(400, "bad_path", `request path is not in normal form: ${problem}`);
    const route = matchRoute(req.path);
    if (!route) throw apiError(404, "no_route", `no route matches ${req.path.slice(0, 200) || path}`);
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
        throw apiError(ingestStatus(result), result.code, result.message);
      case "backpressure":
        throw apiError(ingestStatus(result), "backpressure", result.message, retryAfter);
      case "unavailable":
        throw apiError(ingestStatus(result), "storage_unavailable", result.message, retryAfter);
    }
  });

  app.onError(createErrorRenderer(deps.reportError));
  return app;
}
