/** The `tracing` section: OpenTelemetry export over OTLP/HTTP, off unless an endpoint is set. */
import { z } from "zod";
import { DEFAULT_TRACING } from "./defaults.js";
import { decimal, httpUrl } from "./schema-fields.js";
import type { Config } from "./types.js";

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * A collector's base URL (`http://collector:4318`, path "/") gets the OTLP traces path, as
 * OTEL_EXPORTER_OTLP_ENDPOINT does; any other path is used as written.
 */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname !== "/") return endpoint;
  url.pathname = "/v1/traces";
  return url.toString();
}

export const tracingSchema = z
  .strictObject({
    otlp_endpoint: httpUrl.nullable().optional(),
    service_name: z.string().trim().min(1, { message: "must not be empty" }).optional(),
    sample_ratio: decimal(0, 1).optional(),
    headers: z
      .record(
        z.string().regex(HEADER_NAME, { message: "expected an HTTP header name" }),
        z.string({ message: "expected a string value" }),
      )
      .optional(),
  })
  .transform((tracing): Config["tracing"] =>
    tracing.otlp_endpoint == null
      ? null
      : {
          endpoint: tracesUrl(tracing.otlp_endpoint),
          serviceName: tracing.service_name ?? DEFAULT_TRACING.serviceName,
          sampleRatio: tracing.sample_ratio ?? DEFAULT_TRACING.sampleRatio,
          headers: tracing.headers ?? {},
        },
  );
