/**
 * Field-level zod schemas shared by the config schema: units, ports, URLs, JSON pointers. Each one
 * reports its own message, so an operator reads "expected a duration like 30s" rather than zod's
 * generic union failure.
 */
import { z } from "zod";
import { parseDuration, parseSize } from "./units.js";

const scalar = (what: string) =>
  z.custom<string | number>((value) => typeof value === "string" || typeof value === "number", {
    message: `expected ${what}`,
  });

function unit(what: string, parse: (text: string | number) => number, minimum: number) {
  return scalar(what).transform((value, ctx) => {
    try {
      const parsed = parse(value);
      if (parsed < minimum) {
        ctx.addIssue({ code: "custom", message: `must be greater than 0, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    } catch (error) {
      ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
      return z.NEVER;
    }
  });
}

/** A duration (`30s`, `1h30m`, or ms as a number) in ms; zero allowed. */
export const duration = unit("a duration like 30s or 1h30m", parseDuration, 0);

/** A duration in ms that must be above zero (a zero timeout would disable the timeout). */
export const positiveDuration = unit("a duration like 30s or 1h30m", parseDuration, 1);

/** A size (`1mb`, `512kb`, or bytes as a number) in bytes, above zero. */
export const size = unit("a size like 1mb or 512kb", parseSize, 1);

/** An integer in range; numeric strings are accepted because env vars and flags are strings. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return scalar(`an integer from ${min} to ${max}`).transform((value, ctx) => {
    const parsed =
      typeof value === "number" ? value : /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      ctx.addIssue({ code: "custom", message: `expected an integer from ${min} to ${max}, got "${value}"` });
      return z.NEVER;
    }
    return parsed;
  });
}

/** A number in range, e.g. a backoff factor; numeric strings accepted as for `integer`. */
export function decimal(min: number, max = Number.MAX_SAFE_INTEGER) {
  return scalar(`a number from ${min} to ${max}`).transform((value, ctx) => {
    const parsed = typeof value === "number" ? value : value.trim() === "" ? Number.NaN : Number(value);
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
      ctx.addIssue({ code: "custom", message: `expected a number from ${min} to ${max}, got "${value}"` });
      return z.NEVER;
    }
    return parsed;
  });
}

/** A TCP port; 0 asks the OS for a free one (useful in tests). */
export const port = integer(0, 65535);

/** `true`/`false`, also as the strings env vars and flags carry. */
export const boolean = z.custom<boolean | string>().transform((value, ctx) => {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value.trim())) {
    return value.trim().toLowerCase() === "true";
  }
  ctx.addIssue({ code: "custom", message: `expected true or false, got ${JSON.stringify(value)}` });
  return z.NEVER;
});

/** An absolute http(s) URL; upstreams come only from config, so a typo is caught before any send. */
export const httpUrl = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: "custom", message: `expected an absolute http(s) URL, got "${value}"` });
    return z.NEVER;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    ctx.addIssue({ code: "custom", message: `expected an http or https URL, got "${value}"` });
    return z.NEVER;
  }
  return value;
});

/** A JSON pointer (RFC 6901) into a body; the empty whole-document pointer is never useful here. */
export const jsonPointer = z.string().regex(/^\//, { message: 'expected a JSON pointer starting with "/"' });

/** An HTTP header name, lower-cased: names are case-insensitive (RFC 9110 §5.1) and Node lower-cases them. */
export const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { message: "expected an HTTP header name" })
  .transform((value) => value.toLowerCase());

/** An enum whose input is matched case-insensitively, so `FULL` from an env var works. */
export function looseEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess(
    (value) => (typeof value === "string" ? value.trim().toLowerCase() : value),
    z.enum(values),
  );
}
