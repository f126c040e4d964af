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

/**
 * Values nested deeper than this are not used as keys. JSON.parse takes any depth, but
 * JSON.stringify of a value 100,000 levels deep overflows the stack; no real id is 32 levels deep.
 */
export const MAX_KEY_DEPTH = 32;

/** Whether `value` nests at most `max` arrays/objects deep; iterative, so depth cannot overflow it. */
function withinDepth(value: object, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== "object") continue;
    if (depth > max) return false;
    for (const child of Object.values(node))
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return true;
}

/**
 * A pointer's value as a stable string key (objects as JSON), or null when absent or nested deeper
 * than MAX_KEY_DEPTH (the request is then handled as one without a key, never refused).
 */
export function pointerKey(doc: unknown, pointer: string): string | null {
  const value = resolvePointer(doc, pointer);
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "object" && !withinDepth(value, MAX_KEY_DEPTH)) return null;
  return JSON.stringify(value);
}

/** Marks a key made from a non-string value (see typedPointerKey). */
const TYPED = "json:";

/**
 * Like pointerKey, but `1` and `"1"` give different keys, as they are different ids. Strings stay
 * as they are (so keys stored before are still found), except the rare one starting with "json:",
 * which is quoted; other values are "json:" + their JSON. No two values share a key.
 */
export function typedPointerKey(doc: unknown, pointer: string): string | null {
  const value = resolvePointer(doc, pointer);
  if (typeof value === "string") return value.startsWith(TYPED) ? TYPED + JSON.stringify(value) : value;
  const key = pointerKey(value, "");
  return key === null ? null : TYPED + key;
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
