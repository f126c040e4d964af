/** What a route says besides delivery: where it listens, where it sends, how it verifies. */
import { z } from "zod";
import { pointerNeedsEscapes } from "../json-pointer.js";
import { DEFAULT_VERIFY_TOLERANCE_MS } from "./defaults.js";
import { deliverySchema } from "./schema-delivery.js";
import { boolean, headerName, httpUrl, jsonPointer, positiveDuration } from "./schema-fields.js";
import { filterSchema } from "./schema-filter.js";
import type { PassthroughMatch, VerifyConfig } from "./types.js";

/** Named schemes whose signature covers a timestamp, so it expires after `tolerance`. */
const TIMESTAMPED: ReadonlySet<string> = new Set(["stripe", "slack", "standard-webhooks"]);

const HMAC_ONLY = [
  "header",
  "algorithm",
  "encoding",
  "prefix",
  "timestamp_header",
  "signed_payload",
] as const;

/** What `signed_payload` must look like: some text, `{timestamp}`, some text, `{body}` at the end. */
const SIGNED_PAYLOAD = /^([^{}]*)\{timestamp\}([^{}]*)\{body\}$/;

export const verifySchema = z
  .strictObject({
    scheme: z.enum(["line", "github", "stripe", "shopify", "slack", "standard-webhooks", "hmac"]),
    secret: z.string().min(1, { message: "must not be empty" }).optional(),
    secrets: z
      .array(z.string().min(1, { message: "must not be empty" }))
      .min(1)
      .optional(),
    tolerance: positiveDuration.optional(),
    header: headerName.optional(),
    algorithm: z.enum(["sha1", "sha256", "sha512"]).optional(),
    encoding: z.enum(["hex", "base64"]).optional(),
    prefix: z.string().optional(),
    timestamp_header: headerName.optional(),
    signed_payload: z.string().optional(),
    resign: boolean.optional(),
  })
  .transform((verify, ctx): VerifyConfig => {
    if ((verify.secret === undefined) === (verify.secrets === undefined)) {
      ctx.addIssue({ code: "custom", path: ["secret"], message: "set exactly one of secret or secrets" });
    }
    const timestamped =
      verify.scheme === "hmac" ? verify.timestamp_header !== undefined : TIMESTAMPED.has(verify.scheme);
    if (verify.resign === true && !timestamped) {
      ctx.addIssue({
        code: "custom",
        path: ["resign"],
        message:
          "only applies to schemes with a signed timestamp (stripe, slack, standard-webhooks, hmac with timestamp_header)",
      });
    }
    const resolved: VerifyConfig = {
      scheme: verify.scheme,
      secrets: verify.secrets ?? (verify.secret === undefined ? [] : [verify.secret]),
      toleranceMs: verify.tolerance ?? DEFAULT_VERIFY_TOLERANCE_MS,
      // On by default wherever the signature expires: otherwise a late replay cannot pass the bot's check.
      resign: timestamped && verify.resign !== false,
    };
    if (verify.scheme !== "hmac") {
      // The named schemes fix these themselves; accepting them silently would suggest they apply.
      for (const key of HMAC_ONLY) {
        if (verify[key] !== undefined) {
          ctx.addIssue({ code: "custom", path: [key], message: "only applies to scheme hmac" });
        }
      }
      return resolved;
    }
    if (verify.signed_payload !== undefined) {
      if (verify.timestamp_header === undefined) {
        ctx.addIssue({ code: "custom", path: ["signed_payload"], message: "needs timestamp_header" });
      } else if (!SIGNED_PAYLOAD.test(verify.signed_payload)) {
        ctx.addIssue({
          code: "custom",
          path: ["signed_payload"],
          message: 'expected text with one {timestamp} and {body} at the end, e.g. "{timestamp}.{body}"',
        });
      }
    }
    if (verify.header === undefined) {
      ctx.addIssue({ code: "custom", path: ["header"], message: "required for scheme hmac" });
      return z.NEVER;
    }
    resolved.header = verify.header;
    resolved.algorithm = verify.algorithm ?? "sha256";
    resolved.encoding = verify.encoding ?? "hex";
    if (verify.prefix !== undefined) resolved.prefix = verify.prefix;
    if (verify.timestamp_header !== undefined) {
      const [, before = "", between = "."] =
        SIGNED_PAYLOAD.exec(verify.signed_payload ?? "{timestamp}.{body}") ?? [];
      resolved.timestamp = { header: verify.timestamp_header, before, between };
    }
    return resolved;
  });

const pathPrefix = z
  .string()
  .regex(/^\/[^?#\s]*$/, { message: 'expected a path starting with "/" (no query, fragment or spaces)' });

export const passthroughSchema = z
  .strictObject({
    method: z
      .string()
      .regex(/^[A-Za-z]+$/, { message: "expected an HTTP method" })
      .transform((m) => m.toUpperCase())
      .optional(),
    path: pathPrefix.optional(),
    json: z.strictObject({ pointer: jsonPointer, equals: z.string() }).optional(),
    header: z.strictObject({ name: headerName, equals: z.string() }).optional(),
    verify: z.boolean().optional(),
  })
  .transform((match, ctx): PassthroughMatch => {
    const resolved: PassthroughMatch = {};
    if (match.method !== undefined) resolved.method = match.method;
    if (match.path !== undefined) resolved.path = match.path;
    if (match.json !== undefined) resolved.json = match.json;
    if (match.header !== undefined) resolved.header = match.header;
    // An empty match would pass every request through unbuffered, which is never what was meant.
    if (Object.keys(resolved).length === 0) {
      ctx.addIssue({ code: "custom", message: "set at least one of method, path, json or header" });
    }
    if (match.verify === false) resolved.verify = false;
    return resolved;
  });

const passthroughArraySchema = z.array(passthroughSchema);

/** `passthrough: false` (nothing is proxied synchronously) or the list of extra matches. */
export const passthroughListSchema = z.unknown().transform((value, ctx): PassthroughMatch[] | false => {
  if (value === false) return false;
  if (!Array.isArray(value)) {
    ctx.addIssue({ code: "custom", message: "expected false or a list of matches" });
    return z.NEVER;
  }
  // Parsed apart from `false` (not as a union) so a bad match keeps its own key path and message.
  const parsed = passthroughArraySchema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, input: value } as never);
  return z.NEVER;
});

/** `handshake_paths`: the only paths (relative to the route) whose GET/HEAD/OPTIONS are proxied. */
export const handshakePathsSchema = z.array(pathPrefix).min(1, { message: "list at least one path" });

/** `/line/` and `/line` are the same prefix; keep one spelling so uniqueness checks see that. */
export function normalizePathPrefix(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}

/**
 * A body pointer to index for search. Its tokens become an SQLite JSON path, which has no escape
 * for quotes or backslashes.
 */
export const indexPointer = jsonPointer.refine((p) => !pointerNeedsEscapes(p), {
  message: "a pointer to index may not contain quotes, backslashes or control characters",
});

export const routeSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9_-]+$/, { message: "expected lower-case letters, digits, _ or -" }),
  path: pathPrefix.transform(normalizePathPrefix),
  upstream: httpUrl.optional(),
  upstream_http2: boolean.optional(),
  verify: verifySchema.nullable().optional(),
  passthrough: passthroughListSchema.optional(),
  handshake_paths: handshakePathsSchema.optional(),
  delivery: deliverySchema.optional(),
  index: z.array(indexPointer).optional(),
  filter: filterSchema.nullable().optional(),
});

export type RouteInput = z.output<typeof routeSchema>;
