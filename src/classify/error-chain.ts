/**
 * Flattens an error into every error it carries. Node and undici wrap the error that matters:
 * happy-eyeballs connects fail with an AggregateError holding one error per address, fetch-style
 * wrappers keep the socket error in `cause`. Matching must see all of them.
 */

/** The fields of an error the classifier looks at. */
export interface ErrorFacts {
  /** `err.code` when it is a string (Node, undici, OpenSSL and our own codes). */
  code: string | null;
  /** `err.name`, e.g. "HTTPParserError". */
  name: string;
  /** `err.message`, or the value itself when something other than an Error was thrown. */
  message: string;
}

/** Deep enough for any real chain; stops a hostile or cyclic `cause` from looping. */
const MAX_ERRORS = 32;

function factsOf(value: unknown): ErrorFacts {
  if (typeof value === "object" && value !== null) {
    const { code, name, message } = value as { code?: unknown; name?: unknown; message?: unknown };
    return {
      code: typeof code === "string" ? code : null,
      name: typeof name === "string" ? name : "",
      message: typeof message === "string" ? message : "",
    };
  }
  return { code: null, name: "", message: String(value) };
}

function childrenOf(value: unknown): unknown[] {
  if (typeof value !== "object" || value === null) return [];
  const { cause, errors } = value as { cause?: unknown; errors?: unknown };
  const children: unknown[] = [];
  if (cause !== undefined && cause !== null) children.push(cause);
  if (Array.isArray(errors)) children.push(...errors);
  return children;
}

/** The error itself, then its causes and aggregated errors, breadth first, each object once. */
export function errorChain(err: unknown): ErrorFacts[] {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  const out: ErrorFacts[] = [];
  while (queue.length > 0 && out.length < MAX_ERRORS) {
    const next = queue.shift();
    if (typeof next === "object" && next !== null) {
      if (seen.has(next)) continue;
      seen.add(next);
    }
    out.push(factsOf(next));
    queue.push(...childrenOf(next));
  }
  return out;
}
