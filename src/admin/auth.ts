import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { apiError } from "../http/errors.js";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Bearer-token check in constant time (both sides hashed first, so length leaks nothing).
 * With no token configured the listener is open; the config schema refuses that unless `admin.host`
 * is a loopback address.
 */
export function bearerAuth(token: string | null, open: string[] = ["/healthz"]): MiddlewareHandler {
  const expected = token === null ? null : digest(token);
  return async function bearerAuth(c, next) {
    if (expected === null || open.includes(c.req.path)) return next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer[ ]+(.+)$/i.exec(header);
    if (match && timingSafeEqual(digest((match[1] as string).trim()), expected)) return next();
    throw apiError(401, "unauthorized", "missing or wrong bearer token", {
      "WWW-Authenticate": 'Bearer realm="hookbuffer"',
    });
  };
}
