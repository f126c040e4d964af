import type { IncomingMessage } from "node:http";
import type { CapturedRequest } from "../model.js";

/** The body is larger than the configured limit; nothing was stored. */
export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
  constructor(readonly limit: number) {
    super(`request body exceeds the limit of ${limit} bytes`);
  }
}

/**
 * More header fields than `listen.max_headers`. Node would otherwise keep only the first ~1,000
 * and drop the rest without a word, so the stored webhook would silently lack some of them.
 */
export class TooManyHeadersError extends Error {
  override readonly name = "TooManyHeadersError";
  constructor(readonly limit: number) {
    super(`request has more than ${limit} header fields`);
  }
}

/** The request target cannot be replayed (e.g. `*` or a malformed absolute URI). */
export class BadRequestTargetError extends Error {
  override readonly name = "BadRequestTargetError";
}

/**
 * Splits a request target into path and query. The absolute form (RFC 9112 §3.2.2) is accepted
 * but its authority is dropped: the destination always comes from config, never from the request.
 */
export function splitTarget(target: string): { path: string; query: string } {
  let rest = target;
  if (!rest.startsWith("/")) {
    const match = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*(.*)$/.exec(rest);
    if (!match) throw new BadRequestTargetError(`unsupported request target: ${target.slice(0, 100)}`);
    rest = match[1] || "/";
    if (!rest.startsWith("/")) rest = `/${rest}`;
  }
  const hash = rest.indexOf("#");
  if (hash !== -1) rest = rest.slice(0, hash);
  const q = rest.indexOf("?");
  return q === -1 ? { path: rest, query: "" } : { path: rest.slice(0, q), query: rest.slice(q + 1) };
}

/** Reads the raw body of a Node request, refusing more than `limit` bytes without buffering them. */
export function readBody(incoming: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(incoming.headers["content-length"]);
  if (declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Stop reading; the 413 response is sent and the connection closed by the server.
        incoming.pause();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onError);
  });
}

/** Header pairs exactly as received: original case and order, duplicates kept. */
export function rawHeaderPairs(rawHeaders: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2)
    pairs.push([rawHeaders[i] as string, rawHeaders[i + 1] as string]);
  return pairs;
}

/** Captures a request from Node's socket layer (the production path). */
export async function captureNode(
  incoming: IncomingMessage,
  limit: number,
  maxHeaders = Number.POSITIVE_INFINITY,
): Promise<CapturedRequest> {
  // Checked before the body is read: the 431 closes the connection without buffering anything.
  if (incoming.rawHeaders.length > 2 * maxHeaders) throw new TooManyHeadersError(maxHeaders);
  const { path, query } = splitTarget(incoming.url ?? "/");
  const body = await readBody(incoming, limit);
  return {
    method: incoming.method ?? "POST",
    path,
    query,
    headers: rawHeaderPairs(incoming.rawHeaders),
    body,
  };
}

/** Captures a fetch Request (used when the app runs without Node bindings, e.g. `app.request`). */
export async function captureFetch(req: Request, limit: number): Promise<CapturedRequest> {
  const url = new URL(req.url);
  const declared = Number(req.headers.get("content-length"));
  if (declared > limit) throw new BodyTooLargeError(limit);
  const body = Buffer.from(await req.arrayBuffer());
  if (body.length > limit) throw new BodyTooLargeError(limit);
  const headers: Array<[string, string]> = [];
  req.headers.forEach((value, name) => {
    headers.push([name, value]);
  });
  return { method: req.method, path: url.pathname, query: url.search.slice(1), headers, body };
}
