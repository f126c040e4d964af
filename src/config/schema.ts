/**
 * The configuration as a user writes it (YAML, snake_case). Objects are strict so a misspelt key is
 * reported instead of silently ignored. Units are converted here; merging and the checks that span
 * sections live in resolve.ts.
 */
import { z } from "zod";
import { deliverySchema } from "./schema-delivery.js";
import { boolean, httpUrl } from "./schema-fields.js";
import { filterSchema } from "./schema-filter.js";
import {
  handshakePathsSchema,
  indexPointer,
  passthroughListSchema,
  routeSchema,
  verifySchema,
} from "./schema-route.js";
import { adminSchema, alertSchema, listenSchema, logSchema } from "./schema-sections.js";
import { storageSchema } from "./schema-storage.js";
import { tracingSchema } from "./schema-tracing.js";

/**
 * A YAML key whose children are all commented out parses as null; read that as "not set" rather
 * than as a type error, so trimming config.example.yaml never breaks it.
 */
function absentIfNull<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === null ? undefined : value), schema.optional());
}

function sectionWithDefaults<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => value ?? {}, schema);
}

export const configSchema = z.strictObject({
  /** The default route's upstream; with `routes:`, the upstream of routes that name none. */
  upstream: httpUrl.optional(),
  upstream_http2: boolean.optional(),
  delivery_thread: boolean.optional(),
  /** Default route only. */
  verify: verifySchema.nullable().optional(),
  /** Default route only. */
  passthrough: passthroughListSchema.optional(),
  /** Default route only. */
  handshake_paths: handshakePathsSchema.optional(),
  /** Default route only. */
  index: z.array(indexPointer).optional(),
  /** Default route only. */
  filter: absentIfNull(filterSchema),
  // Parsed even when absent, so each section's own defaults and checks (admin token) always run.
  listen: sectionWithDefaults(listenSchema),
  admin: sectionWithDefaults(adminSchema),
  storage: sectionWithDefaults(storageSchema),
  delivery: absentIfNull(deliverySchema),
  routes: absentIfNull(
    z.array(routeSchema).min(1, { message: "list at least one route, or remove routes:" }),
  ),
  alerts: absentIfNull(z.array(alertSchema)),
  tracing: absentIfNull(tracingSchema),
  log: sectionWithDefaults(logSchema),
});

/** The user's configuration after unit conversion, before route resolution. */
export type ConfigInput = z.output<typeof configSchema>;
