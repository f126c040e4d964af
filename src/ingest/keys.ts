import type { DedupSource, Ordering } from "../config/types.js";
import { parseJsonBody, pointerKey, resolvePointer, typedPointerKey } from "../json-pointer.js";

/** Case-insensitive header lookup over captured pairs (first value wins). */
export function headerGetter(headers: Array<[string, string]>): (name: string) => string | undefined {
  return (name) => {
    const lower = name.toLowerCase();
    for (const [k, v] of headers) if (k.toLowerCase() === lower) return v;
    return undefined;
  };
}

/** Parses the body at most once, and only when a feature asks for it. */
export function lazyJson(body: Buffer): () => unknown {
  let parsed: { value: unknown } | undefined;
  return () => {
    if (!parsed) parsed = { value: parseJsonBody(body) };
    return parsed.value;
  };
}

/**
 * The dedup key of a request, or null when it carries none (then it is simply stored). LINE can
 * batch several events into one POST, so its key is the sorted set of all webhookEventIds.
 */
export function dedupKey(
  source: DedupSource,
  header: (name: string) => string | undefined,
  json: () => unknown,
): string | null {
  switch (source.kind) {
    case "header": {
      const value = header(source.name);
      if (value || !source.aliases) return value || null;
      for (const alias of source.aliases) {
        const other = header(alias);
        if (other) return other;
      }
      return null;
    }
    case "json":
      return typedPointerKey(json(), source.pointer);
    case "line": {
      const events = resolvePointer(json(), "/events");
      if (!Array.isArray(events) || events.length === 0) return null;
      const ids = events.map((e) => resolvePointer(e, "/webhookEventId"));
      if (!ids.every((id): id is string => typeof id === "string")) return null;
      return ids.sort().join(",");
    }
  }
}

/** The ordering key: "" (one queue) for fifo, the pointer's value per key, or null (unordered). */
export function orderKey(ordering: Ordering, json: () => unknown): string | null {
  switch (ordering.kind) {
    case "none":
      return null;
    case "fifo":
      return "";
    case "key":
      // A body that is not JSON or lacks the key shares one queue, so it is still ordered.
      return pointerKey(json(), ordering.pointer) ?? "";
  }
}
