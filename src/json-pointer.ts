/**
 * RFC 6901 JSON Pointer lookup. Returns undefined when any step is missing; never throws.
 */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === "") return doc;
  if (!pointer.startsWith("/")) return undefined;
  let node: unknown = doc;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      node = node[Number(token)];
    } else if (node !== null && typeof node === "object" && Object.hasOwn(node, token)) {
      node = (node as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return node;
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
