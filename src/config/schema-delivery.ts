/**
 * The `delivery:` block, valid both globally and per route. Every key is optional so a route can
 * override just what it names; `retry`, `ordering` and `dedup` resolve to their final shape here
 * because they are replaced as a whole, never merged key by key.
 */
import { z } from "zod";
import {
  BREAKER_COUNT_CLASSES,
  DEFAULT_DEDUP_WINDOW_MS,
  DEFAULT_EXPONENTIAL,
  DEFAULT_MAX_DELAY_MS,
  DEFAULT_SCHEDULE_MS,
} from "./defaults.js";
import {
  decimal,
  duration,
  headerName,
  integer,
  jsonPointer,
  looseEnum,
  positiveDuration,
} from "./schema-fields.js";
import type { DedupConfig, DedupSource, Ordering, RateLimit, RetryPolicy } from "./types.js";

const exponentialSchema = z.strictObject({
  base: positiveDuration.optional(),
  factor: decimal(1).optional(),
  max_delay: positiveDuration.optional(),
  max_attempts: integer(1).optional(),
  jitter: decimal(0, 1).optional(),
});

export const retrySchema = z
  .strictObject({
    schedule: z.array(duration).min(1).optional(),
    exponential: exponentialSchema.optional(),
    max_delay: positiveDuration.optional(),
    max_age: positiveDuration.nullable().optional(),
  })
  .transform((retry, ctx): RetryPolicy => {
    const maxAgeMs = retry.max_age ?? null;
    if (retry.schedule !== undefined && retry.exponential !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["exponential"],
        message: "set either schedule or exponential, not both",
      });
      return z.NEVER;
    }
    const exp = retry.exponential;
    if (exp === undefined) {
      return {
        kind: "schedule",
        delaysMs: retry.schedule ?? [...DEFAULT_SCHEDULE_MS],
        maxDelayMs: retry.max_delay ?? DEFAULT_MAX_DELAY_MS,
        maxAgeMs,
      };
    }
    if (exp.max_delay !== undefined && retry.max_delay !== undefined && exp.max_delay !== retry.max_delay) {
      ctx.addIssue({
        code: "custom",
        path: ["max_delay"],
        message: "differs from exponential.max_delay; set one of them",
      });
      return z.NEVER;
    }
    return {
      kind: "exponential",
      baseMs: exp.base ?? DEFAULT_EXPONENTIAL.baseMs,
      factor: exp.factor ?? DEFAULT_EXPONENTIAL.factor,
      maxDelayMs: exp.max_delay ?? retry.max_delay ?? DEFAULT_EXPONENTIAL.maxDelayMs,
      maxAttempts: exp.max_attempts ?? DEFAULT_EXPONENTIAL.maxAttempts,
      jitter: exp.jitter ?? DEFAULT_EXPONENTIAL.jitter,
      maxAgeMs,
    };
  });

/** `connect`, `timeout`, `unclassified`, `3xx`, `4xx`, `5xx`, or one status code such as 429. */
const breakerCount = z.union([looseEnum(BREAKER_COUNT_CLASSES), integer(300, 599)], {
  error: `expected one of ${BREAKER_COUNT_CLASSES.join(", ")} or a status code from 300 to 599`,
});

export const breakerSchema = z.strictObject({
  failures: integer(0).optional(),
  cooldown: positiveDuration.optional(),
  max_cooldown: positiveDuration.optional(),
  count: z
    .array(breakerCount)
    .min(1, { message: "list at least one outcome (or set failures: 0)" })
    .optional(),
});

/** `none`, `fifo`, or `{key: "/json/pointer"}` for FIFO per key. */
export const orderingSchema = z
  .union([looseEnum(["none", "fifo"]), z.strictObject({ key: jsonPointer })], {
    error: 'expected none, fifo or {key: "/json/pointer"}',
  })
  .transform(
    (value): Ordering => (typeof value === "string" ? { kind: value } : { kind: "key", pointer: value.key }),
  );

const PRESETS = {
  line: { kind: "line" },
  github: { kind: "header", name: "x-github-delivery" },
  stripe: { kind: "json", pointer: "/id" },
  // Shopify's event webhooks drop the X- prefix; Svix sends the Standard Webhooks id as svix-id.
  shopify: { kind: "header", name: "x-shopify-webhook-id", aliases: ["shopify-webhook-id"] },
  "standard-webhooks": { kind: "header", name: "webhook-id", aliases: ["svix-id"] },
} as const satisfies Record<string, DedupSource>;

const presetNames = Object.keys(PRESETS) as [keyof typeof PRESETS, ...Array<keyof typeof PRESETS>];

/** A preset name, or `{preset|header|json, window}`; `null` turns dedup off (e.g. in one route). */
export const dedupSchema = z
  .preprocess(
    (value) => (typeof value === "string" ? { preset: value } : value),
    z.strictObject({
      preset: looseEnum(presetNames).optional(),
      header: headerName.optional(),
      json: jsonPointer.optional(),
      window: positiveDuration.optional(),
    }),
  )
  .transform((dedup, ctx): DedupConfig => {
    const windowMs = dedup.window ?? DEFAULT_DEDUP_WINDOW_MS;
    const given = [dedup.preset, dedup.header, dedup.json].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({ code: "custom", message: "set exactly one of preset, header or json" });
      return z.NEVER;
    }
    if (dedup.preset !== undefined) return { source: { ...PRESETS[dedup.preset] }, windowMs };
    if (dedup.header !== undefined) return { source: { kind: "header", name: dedup.header }, windowMs };
    return { source: { kind: "json", pointer: dedup.json ?? "" }, windowMs };
  });

const PER_UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** `10/s`, `600/m` or `36000/h` (a number before the slash, decimals allowed). */
const rate = z.string({ error: "expected a rate like 10/s, 600/m or 36000/h" }).transform((text, ctx) => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|m|h)\s*$/i.exec(text);
  const n = m ? Number(m[1]) : 0;
  if (!m || n <= 0) {
    ctx.addIssue({
      code: "custom",
      message: `expected a rate above zero like 10/s, 600/m or 36000/h, got "${text}"`,
    });
    return z.NEVER;
  }
  const perMs = n / PER_UNIT_MS[(m[2] as string).toLowerCase() as keyof typeof PER_UNIT_MS];
  return { perSecond: perMs * 1_000, text: text.trim() };
});

/** `{rate: 10/s, burst: 20}`; burst defaults to one second's worth (at least 1). */
export const rateLimitSchema = z.strictObject({ rate, burst: integer(1, 1_000_000).optional() }).transform(
  (limit): RateLimit => ({
    perSecond: limit.rate.perSecond,
    burst: limit.burst ?? Math.max(1, Math.ceil(limit.rate.perSecond)),
    text: limit.rate.text,
  }),
);

export const deliverySchema = z.strictObject({
  timeout: positiveDuration.optional(),
  connect_timeout: positiveDuration.optional(),
  dns_timeout: positiveDuration.optional(),
  concurrency: integer(1, 10_000).optional(),
  rate_limit: rateLimitSchema.nullable().optional(),
  retry: retrySchema.optional(),
  // A 2xx is a delivery whatever this list says, so listing one would be a silent no-op: refuse it.
  permanent_statuses: z.array(integer(300, 599)).optional(),
  breaker: breakerSchema.optional(),
  ordering: orderingSchema.optional(),
  dedup: dedupSchema.nullable().optional(),
});

/** The `delivery:` block as written, units converted, nothing merged yet. */
export type DeliveryInput = z.output<typeof deliverySchema>;
