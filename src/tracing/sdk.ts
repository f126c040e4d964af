/**
 * The OpenTelemetry SDK, set up for hookbuffer alone: a tracer provider that is never registered
 * globally, OTLP/HTTP (JSON) export through a batch span processor, parent-based sampling with a
 * ratio for new traces. Imported dynamically, so with tracing off none of it is ever loaded.
 */
import { readFileSync } from "node:fs";
import type * as Api from "@opentelemetry/api";
import type { IdGenerator, ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Logger } from "pino";
import type { TracingConfig } from "../config/types.js";

export interface OtelSdk {
  api: typeof Api;
  tracer: Api.Tracer;
  /** A fresh random span id (16 hex digits). */
  newSpanId(): string;
  /**
   * Makes the next span the tracer starts take `spanId`: an attempt's span id is chosen before the
   * send (the upstream receives it in `traceparent`) and its span is built after the result.
   */
  withSpanId<T>(spanId: string, start: () => T): T;
  /** Exports what is buffered and stops; bounded by the exporter's own timeout. */
  shutdown(): Promise<void>;
}

/** How long one export may take, and how long shutdown waits for the last one. */
const EXPORT_TIMEOUT_MS = 10_000;

type ExportCallback = Parameters<SpanExporter["export"]>[1];

/** Logs the first failed export of a run of failures and the recovery, not every batch. */
function loggingExporter(inner: SpanExporter, log: Logger): SpanExporter {
  let failing = false;
  return {
    export(spans: ReadableSpan[], done: ExportCallback): void {
      inner.export(spans, (result) => {
        if (result.code !== 0 && !failing) {
          failing = true;
          log.warn(
            { err: result.error, spans: spans.length },
            "trace export failed; spans are dropped until the collector answers",
          );
        } else if (result.code === 0 && failing) {
          failing = false;
          log.info("trace export recovered");
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    ...(inner.forceFlush && { forceFlush: () => inner.forceFlush?.() ?? Promise.resolve() }),
  };
}

/** hookbuffer's version for `service.version`, from the package.json beside src/ or dist/. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

export async function loadSdk(config: TracingConfig, log: Logger): Promise<OtelSdk> {
  const version = packageVersion();
  const [api, base, otlp, resources] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const random = new base.RandomIdGenerator();
  let preset: string | null = null;
  const ids: IdGenerator = {
    generateTraceId: () => random.generateTraceId(),
    generateSpanId: () => {
      const id = preset ?? random.generateSpanId();
      preset = null;
      return id;
    },
  };
  const exporter = new otlp.OTLPTraceExporter({
    url: config.endpoint,
    headers: config.headers,
    timeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const provider = new base.BasicTracerProvider({
    resource: resources
      .defaultResource()
      .merge(
        resources.resourceFromAttributes({ "service.name": config.serviceName, "service.version": version }),
      ),
    sampler: new base.ParentBasedSampler({ root: new base.TraceIdRatioBasedSampler(config.sampleRatio) }),
    idGenerator: ids,
    spanProcessors: [
      new base.BatchSpanProcessor(loggingExporter(exporter, log), { exportTimeoutMillis: EXPORT_TIMEOUT_MS }),
    ],
  });
  return {
    api,
    tracer: provider.getTracer("hookbuffer", version),
    newSpanId: () => random.generateSpanId(),
    withSpanId(spanId, start) {
      preset = spanId;
      try {
        return start();
      } finally {
        preset = null;
      }
    },
    async shutdown() {
      try {
        await provider.shutdown();
      } catch (err) {
        log.warn({ err }, "trace export at shutdown failed; the last spans are lost");
      }
    },
  };
}
