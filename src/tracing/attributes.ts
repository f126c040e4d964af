/**
 * What the ingest and attempt spans say (README, Tracing): names, attributes and the error
 * message that marks a span failed. Pure: no OpenTelemetry import, so it is tested on its own.
 */
import type { RouteConfig } from "../config/types.js";
import type { IngestResult } from "../ingest/service.js";
import { ingestStatus } from "../ingest/status.js";
import type { AttemptResult, CapturedRequest, DueEvent } from "../model.js";
import type { EventUpdate } from "../store/index.js";

export type Attributes = Record<string, string | number>;

export const ingestSpanName = (route: RouteConfig): string => `ingest ${route.name}`;
export const attemptSpanName = (route: RouteConfig): string => `deliver ${route.name}`;

/** Known when the request arrives. */
export function ingestStartAttributes(route: RouteConfig, req: CapturedRequest): Attributes {
  return {
    "hookbuffer.route": route.name,
    "http.route": route.pathPrefix,
    "http.request.method": req.method,
    "url.path": req.path,
    "http.request.body.size": req.body.length,
  };
}

/** Known once the request is answered: the event id, the status, and what happened. */
export function ingestEndAttributes(result: IngestResult): Attributes {
  const attributes: Attributes = {
    "http.response.status_code": ingestStatus(result),
    "hookbuffer.result": result.kind === "accepted" && result.filtered ? "filtered" : result.kind,
  };
  if (result.kind === "accepted" || result.kind === "duplicate")
    attributes["hookbuffer.event.id"] = result.id;
  return attributes;
}

/** Why the webhook was not stored, or null when it was (a duplicate was stored before). */
export function ingestError(result: IngestResult): string | null {
  switch (result.kind) {
    case "accepted":
    case "duplicate":
      return null;
    case "rejected":
      return `${result.code}: ${result.message}`;
    case "backpressure":
    case "unavailable":
      return result.message;
  }
}

/** Where a route delivers, for `server.address`/`server.port`. */
export function upstreamAttributes(route: RouteConfig): Attributes {
  const url = new URL(route.upstream);
  const port = url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  return { "server.address": url.hostname.replace(/^\[(.*)\]$/, "$1"), "server.port": port };
}

const NEXT: Readonly<Record<EventUpdate["status"], string>> = {
  delivered: "delivered",
  pending: "retry",
  dead: "dead",
};

/** One attempt: which event, which try, what came back, and what hookbuffer decided. */
export function attemptAttributes(
  route: RouteConfig,
  event: DueEvent,
  result: AttemptResult,
  update: EventUpdate,
): Attributes {
  const attributes: Attributes = {
    "hookbuffer.route": route.name,
    "hookbuffer.event.id": event.id,
    "hookbuffer.attempt": update.attempts,
    "hookbuffer.result": NEXT[update.status],
    "http.request.method": event.method,
  };
  if (update.status === "pending")
    attributes["hookbuffer.retry_at"] = new Date(update.nextAttemptAt).toISOString();
  if (result.statusCode !== null) attributes["http.response.status_code"] = result.statusCode;
  if (result.failure !== null) {
    attributes["hookbuffer.reason"] = result.failure.reason;
    attributes["hookbuffer.detail"] = result.failure.detail;
    attributes["error.type"] = result.statusCode !== null ? String(result.statusCode) : result.failure.reason;
  }
  return attributes;
}

/** The failure in LINE's words plus the log-safe cause, or null for a 2xx. */
export function attemptError(result: AttemptResult): string | null {
  if (result.failure === null) return null;
  const { reason, detail } = result.failure;
  return result.error !== null ? `${reason}: ${detail} (${result.error})` : `${reason}: ${detail}`;
}
