/**
 * RFC 6901 JSON Pointer lookup. Returns undefined when any step is missing; never throws. Runs for
 * every ingested webhook with a dedup or ordering pointer, so it walks the string in place rather
 * than splitting it, and unescapes only pointers that contain `~`.
 */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === "") return doc;
  if (pointer.charCodeAt(0) !== 47) return undefined; // "/"
  const escaped = pointer.includes("~");
  let node: unknown = doc;
  let start = 1;
  for (;;) {
    const end = pointer.indexOf("/", start);
    const raw = end === -1 ? pointer.slice(start) : pointer.slice(start, end);
    const token = escaped ? raw.replace(/~1/g, "/").replace(/~0/g, "~") : raw;
    if (Array.isArray(node)) {
      if (!isArrayIndex(token)) return undefined;
      node = node[Number(token)];
    } else if (node !== null && typeof node === "object" && Object.hasOwn(node, token)) {
      node = (node as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
    if (end === -1) return node;
    start = end + 1;
  }
}

/** `0` or digits without a leading zero (RFC 6901 §4). */
function isArrayIndex(token: string): boolean {
  const n = token.length;
  if (n === 0 || (n > 1 && token.charCodeAt(0) === 48)) return false;
  for (let i = 0; i < n; i++) {
    const c = token.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Parses a body as JSON, or returns undefined when it is not JSON. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** A pointer's value as a stable string key (objects as JSON), or null when absent. */
export function pointerKey(doc: unknown, pointer: string): string | null {
  const value = resolvePointer(doc, pointer);
  if (value === undefined || value === null) return null;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * True when a pointer's tokens hold a quote, backslash or control character: an SQLite JSON path
 * (search and its expression indexes) has no way to write those.
 */
export function pointerNeedsEscapes(pointer: string): boolean {
  const tokens = pointer.replace(/~1/g, "/").replace(/~0/g, "~");
  for (let i = 0; i < tokens.length; i++) {
    const c = tokens.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) return true;
  }
  return false;
}
