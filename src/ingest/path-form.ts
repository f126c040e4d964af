/**
 * Request paths must arrive in normal form (docs/security.md#paths-are-matched-as-replayed). Routes are
 * matched on the path as received, and the same bytes are replayed; an upstream that decodes
 * `%63` to `c`, resolves `..`, treats `\` or `%2F` as `/` or merges `//` would otherwise read a
 * different path than the one the route (and its `verify:`) was chosen for: `/%63allback` or
 * `/x/../callback` would reach the upstream's `/callback` handler through an unverified route.
 */

/** Unreserved characters (RFC 3986 §2.3): percent-encoding them changes nothing but the match. */
function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x2d || // -
    code === 0x2e || // .
    code === 0x5f || // _
    code === 0x7e // ~
  );
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Why `path` is not in normal form, or null when it is. One pass with no allocation on the common
 * path (`/line`, `/hooks/github`); only a refused path builds a message.
 */
export function pathProblem(path: string): string | null {
  let segmentStart = 1;
  for (let i = 0; i <= path.length; i += 1) {
    const code = i < path.length ? path.charCodeAt(i) : 0x2f;
    if (code === 0x2f) {
      // End of a segment: "", "." and ".." are the forms an upstream may collapse or resolve.
      const length = i - segmentStart;
      if (i > 0 && i < path.length && length === 0) return "empty path segment (//)";
      if (length === 1 && path.charCodeAt(segmentStart) === 0x2e) return "dot segment (/./)";
      if (
        length === 2 &&
        path.charCodeAt(segmentStart) === 0x2e &&
        path.charCodeAt(segmentStart + 1) === 0x2e
      )
        return "dot segment (/../)";
      segmentStart = i + 1;
    } else if (code === 0x5c) {
      return "backslash in the path";
    } else if (code === 0x25) {
      const hi = hexValue(path.charCodeAt(i + 1));
      const lo = hexValue(path.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return "malformed percent-encoding";
      const byte = hi * 16 + lo;
      if (isUnreserved(byte)) return `percent-encoded unreserved character (${path.slice(i, i + 3)})`;
      if (byte === 0x2f || byte === 0x5c) return `percent-encoded path separator (${path.slice(i, i + 3)})`;
      i += 2;
    }
  }
  return null;
}
