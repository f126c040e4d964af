import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Bearer-token check in constant time (both sides hashed first, so length leaks nothing).
 * With no token configured the listener is open; main refuses that unless bound to loopback.
 */
export function bearerAuth(token: string | null, open: string[] = ["/healthz"]): MiddlewareHandler {
  const expected = token === null ? null : digest(token);
  return async function bearerAuth(c, next) {
    if (expected === null || open.includes(c.req.path)) return next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer[ ]+(.+)$/i.exec(header);
    if (match && timingSafeEqual(digest((match[1] as string).trim()), expected)) return next();
    c.header("WWW-Authenticate", 'Bearer realm="hookbuffer"');
    return c.json({ error: { code: "unauthorized", message: "missing or wrong bearer token" } }, 401);
  };
}
