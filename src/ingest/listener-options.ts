import type { Server, ServerOptions } from "node:http";
import type { Config } from "../config/types.js";

/** Node's own default check period (ms); never check less often than that. */
const NODE_DEFAULT_CHECK_MS = 30_000;
/** Floor for the check period, so tiny test timeouts do not turn it into a busy loop. */
const MIN_CHECK_MS = 50;

/**
 * Node options for the provider-facing listener. Node enforces `headersTimeout` and
 * `requestTimeout` (slowloris protection: a client dribbling headers or body a byte at a time is
 * answered 408 and closed) only when its connection sweep runs, every `connectionsCheckingInterval`
 * ms (default 30 s). With the default, a 10 s headers timeout really means up to 40 s, and a slow
 * client holds its socket that much longer; so sweep at a quarter of the shortest timeout, which
 * closes a slow socket within 1.25 x its deadline. `maxHeaderSize` bounds the request line and
 * header block together, so many small headers are refused (431) just as one huge one is.
 * https://nodejs.org/api/http.html#httpcreateserveroptions-requestlistener
 */
export function listenerOptions(listen: Config["listen"]): ServerOptions {
  const shortest = Math.min(listen.headersTimeoutMs, listen.requestTimeoutMs);
  return {
    headersTimeout: listen.headersTimeoutMs,
    requestTimeout: listen.requestTimeoutMs,
    maxHeaderSize: listen.maxHeaderBytes,
    connectionsCheckingInterval: Math.min(
      NODE_DEFAULT_CHECK_MS,
      Math.max(MIN_CHECK_MS, Math.floor(shortest / 4)),
    ),
    // Longer than the idle timeout of common provider and load-balancer pools (60 s), so this end
    // is not the one closing a connection the peer is about to reuse.
    keepAliveTimeout: 65_000,
    // A request without Host reaches the app, which answers a JSON 400 (see requestErrorResponse in http/errors.ts)
    // instead of Node's empty one.
    requireHostHeader: false,
  };
}

/**
 * Settings Node takes only on the server object. Left unset, Node keeps about the first 1,000
 * header fields and silently drops the rest; one more than `listen.max_headers` is kept, so the
 * ingest app sees that the limit was passed and answers 431.
 */
export function applyServerLimits(server: Server, listen: Config["listen"]): void {
  server.maxHeadersCount = listen.maxHeaders + 1;
}
