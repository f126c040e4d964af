/**
 * What the upstream receives: the provider's headers minus everything that belonged to the
 * provider's connection, at a URL whose origin is always the configured upstream.
 */

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1, plus the de-facto keep-alive/proxy-connection), and fields
 * describing this hop's framing that undici recomputes from the stored body: `host` (set from the
 * upstream URL), `content-length` (the body's byte length). `expect` is dropped too: we already hold
 * the whole body, and undici refuses to send it (NotSupportedError).
 */
const DROPPED: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate",
  "host",
  "content-length",
  "expect",
]);

/** Field names listed in every Connection header (RFC 9110 §7.6.1: those are hop-by-hop as well). */
function connectionOptions(headers: Array<[string, string]>): Set<string> {
  const named = new Set<string>();
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== "connection") continue;
    for (const token of value.split(",")) {
      const option = token.trim().toLowerCase();
      if (option !== "") named.add(option);
    }
  }
  return named;
}

/**
 * Our own namespace. Anyone can reach the ingest port, so an incoming `X-Hookbuffer-*` header is
 * dropped rather than trusted: otherwise a route without `verify:` (where no X-Hookbuffer-Verified
 * is added to replace it) or a passthrough request would carry a forged X-Hookbuffer-Verified.
 */
const OWN_PREFIX = "x-hookbuffer-";

/**
 * Whether a lower-cased name is in our namespace once `_` is read as `-`: CGI/WSGI-style upstreams
 * map both to `HTTP_X_HOOKBUFFER_...`, so `X_Hookbuffer_Verified` would pass as ours. Compared in
 * place, without building a new string per header.
 */
function isOwnName(lower: string): boolean {
  if (lower.length < OWN_PREFIX.length) return false;
  for (let i = 0; i < OWN_PREFIX.length; i += 1) {
    const code = lower.charCodeAt(i);
    if (code !== OWN_PREFIX.charCodeAt(i) && !(code === 0x5f && OWN_PREFIX.charCodeAt(i) === 0x2d))
      return false;
  }
  return true;
}

/**
 * The original headers in order and original case, duplicates kept, minus hop-by-hop fields and
 * minus any `X-Hookbuffer-*` (also spelt with `_`); then `extra`. A name in `extra` also replaces every original header
 * of that name.
 */
export function forwardHeaders(
  original: Array<[string, string]>,
  extra: Array<[string, string]>,
): Array<[string, string]> {
  const named = connectionOptions(original);
  const replaced = new Set(extra.map(([name]) => name.toLowerCase()));
  const kept = original.filter(([name]) => {
    const lower = name.toLowerCase();
    return !DROPPED.has(lower) && !named.has(lower) && !replaced.has(lower) && !isOwnName(lower);
  });
  return [...kept, ...extra];
}

/** True when `path` is `prefix` or lies under it at a segment boundary ("/line" covers "/line/x", not "/lines"). */
function under(path: string, prefix: string): boolean {
  if (prefix === "/" || prefix === "") return true;
  const base = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  return path === base || path.startsWith(`${base}/`);
}

/**
 * The URL one stored request is replayed to. With an upstream path other than "/", the request
 * path minus the route prefix is appended to it (route "/line" -> "http://app/hooks": "/line/cb"
 * goes to "/hooks/cb"); otherwise the original path is kept. The query follows (after the
 * upstream's own query, if it has one).
 *
 * The path is not normalised (dot segments and percent-encoding reach the upstream as received),
 * and it is always joined after the upstream's origin with a leading "/", so nothing in it
 * ("//evil.com/x", "http://evil/", "@evil", "\\evil") can change the host: upstreams come only from
 * config (docs/security.md#destinations-come-only-from-config).
 */
export function targetUrl(upstream: string, routePrefix: string, path: string, query: string): string {
  return targetFor(upstream, routePrefix)(path, query);
}

/** `targetUrl` with the upstream parsed once, for a route's many replays. */
export function targetFor(upstream: string, routePrefix: string): (path: string, query: string) => string {
  const base = new URL(upstream);
  const { origin, pathname } = base;
  const baseQuery = base.search.slice(1);
  return (path, query) => {
    let rest = path;
    if (pathname !== "/") {
      const relative = under(path, routePrefix) ? path.slice(routePrefix.replace(/\/$/, "").length) : path;
      const basePath = relative === "" ? pathname : pathname.replace(/\/$/, "");
      rest = basePath + (relative === "" || relative.startsWith("/") ? relative : `/${relative}`);
    }
    // The authority ends at the first "/" after it; guarantee that "/" is ours.
    if (!rest.startsWith("/")) rest = `/${rest}`;
    const queries = [baseQuery, query].filter((q) => q !== "");
    return origin + rest + (queries.length > 0 ? `?${queries.join("&")}` : "");
  };
}
