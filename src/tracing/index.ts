/**
 * OpenTelemetry tracing of ingest and delivery (README, Tracing). main.ts calls `startTracing` only
 * when `tracing.otlp_endpoint` is set; otherwise neither this wiring nor the SDK is involved.
 *
 * One trace per webhook: the ingest span (SERVER) continues the request's `traceparent` or starts
 * a trace, and is stored with the event; every attempt span (CLIENT) is its child, however long
 * after and across restarts, and the upstream receives a `traceparent` naming that attempt span.
 */
import type { Logger } from "pino";
import type { RouteConfig, TracingConfig } from "../config/types.js";
import type { AttemptSpan, AttemptTracing } from "../deliver/deliverer.js";
import type { Ingestor } from "../ingest/service.js";
import type { StoredTrace } from "../model.js";
import {
  attemptAttributes,
  attemptError,
  attemptSpanName,
  ingestEndAttributes,
  ingestError,
  ingestSpanName,
  ingestStartAttributes,
  upstreamAttributes,
} from "./attributes.js";
import { loadSdk, type OtelSdk } from "./sdk.js";
import {
  formatTraceparent,
  incomingTrace,
  isSampled,
  parseTraceparent,
  type SpanRef,
} from "./trace-context.js";

export interface Tracing {
  /** Wraps the ingestor: an ingest span per webhook, its context stored with the event. */
  observeIngest(accept: Ingestor): Ingestor;
  /** For the deliverer: a `traceparent` per attempt and its span. */
  attempts: AttemptTracing;
  /** Exports what is buffered; call after delivery has stopped. */
  shutdown(): Promise<void>;
}

interface PendingAttempt extends AttemptSpan {
  parent: SpanRef;
  spanId: string;
  state: string | null;
}

/** The parent context for a span: a remote span (the caller's, or the stored ingest span). */
function parentContext(sdk: OtelSdk, parent: SpanRef, state: string | null) {
  const { api } = sdk;
  return api.trace.setSpanContext(api.ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.flags,
    isRemote: true,
    ...(state !== null && { traceState: api.createTraceState(state) }),
  });
}

function createIngestTracing(sdk: OtelSdk): Tracing["observeIngest"] {
  const { api, tracer } = sdk;
  return (accept) =>
    async function tracedAccept(route, req) {
      const incoming = incomingTrace(req.headers);
      const context = incoming === null ? api.ROOT_CONTEXT : parentContext(sdk, incoming, incoming.state);
      const span = tracer.startSpan(
        ingestSpanName(route),
        { kind: api.SpanKind.SERVER, attributes: ingestStartAttributes(route, req) },
        context,
      );
      const own = span.spanContext();
      const trace: StoredTrace = {
        parent: formatTraceparent({ traceId: own.traceId, spanId: own.spanId, flags: own.traceFlags }),
        state: incoming?.state ?? null,
      };
      try {
        const result = await accept(route, req, trace);
        span.setAttributes(ingestEndAttributes(result));
        const error = ingestError(result);
        if (error !== null) span.setStatus({ code: api.SpanStatusCode.ERROR, message: error });
        return result;
      } catch (err) {
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: String(err) });
        throw err;
      } finally {
        span.end();
      }
    };
}

function createAttemptTracing(sdk: OtelSdk, log: Logger): AttemptTracing {
  const { api, tracer } = sdk;
  const servers = new Map<string, ReturnType<typeof upstreamAttributes>>();
  const serverOf = (route: RouteConfig) => {
    let attributes = servers.get(route.name);
    if (attributes === undefined) {
      attributes = upstreamAttributes(route);
      servers.set(route.name, attributes);
    }
    return attributes;
  };
  return {
    begin(event) {
      const stored = event.trace;
      if (stored == null) return null;
      const parent = parseTraceparent(stored.parent);
      if (parent === null) return null;
      const spanId = sdk.newSpanId();
      const headers: Array<[string, string]> = [
        ["traceparent", formatTraceparent({ traceId: parent.traceId, spanId, flags: parent.flags })],
      ];
      if (stored.state !== null) headers.push(["tracestate", stored.state]);
      const pending: PendingAttempt = { headers, parent, spanId, state: stored.state };
      return pending;
    },
    end(span, route, event, result, update) {
      const { parent, spanId, state } = span as PendingAttempt;
      // Unsampled: the upstream still got a traceparent (flags 00), but nothing is recorded.
      if (!isSampled(parent)) return;
      try {
        const otel = sdk.withSpanId(spanId, () =>
          tracer.startSpan(
            attemptSpanName(route),
            {
              kind: api.SpanKind.CLIENT,
              startTime: result.startedAt,
              attributes: { ...attemptAttributes(route, event, result, update), ...serverOf(route) },
            },
            parentContext(sdk, parent, state),
          ),
        );
        const error = attemptError(result);
        if (error !== null) otel.setStatus({ code: api.SpanStatusCode.ERROR, message: error });
        otel.end(result.startedAt + result.durationMs);
      } catch (err) {
        log.warn({ err, event: event.id }, "could not record the attempt's span");
      }
    },
  };
}

export async function startTracing(config: TracingConfig, log: Logger): Promise<Tracing> {
  const sdk = await loadSdk(config, log);
  return {
    observeIngest: createIngestTracing(sdk),
    attempts: createAttemptTracing(sdk, log),
    shutdown: () => sdk.shutdown(),
  };
}
