/**
 * Where attempts are sent from. The deliverer hands each attempt to a Sender and gets the outcome
 * back as data; whether the HTTP work runs on this thread (`createInlineSender`) or on a worker
 * thread (`createThreadSender`) is the composition root's choice
 * (docs/architecture.md#transport-apart-from-policy).
 */
import type { AttemptResult } from "../model.js";
import type { Resigner } from "../verify/resign.js";
import { type OutgoingRequest, send, shutdownController } from "./send.js";
import type { Upstream } from "./upstream.js";

export interface Sender {
  /**
   * Whether the sender itself runs at most a route's concurrency at once and queues the rest. The
   * deliverer may then hand over more than the concurrency, so a freed slot starts the next
   * attempt without waiting for this thread.
   */
  readonly queues: boolean;
  /** Performs one attempt on the route's upstream. Never rejects: failures are results. */
  send(route: string, req: OutgoingRequest, timeoutMs: number): Promise<AttemptResult>;
  /** Attempts of the route still waiting for a slot end now with `aborted: true`, never sent. */
  release(route: string): void;
  /** Shutdown: every attempt in flight ends now with `aborted: true` (not a failure). */
  abort(reason: Error): void;
  /** Closes connections (and the thread); call after the attempts in flight have settled. */
  close(): Promise<void>;
}

/**
 * Sends on the calling thread, through the given per-route pools (which it does not close), with
 * each re-signing route's re-signer.
 */
export function createInlineSender(
  upstreams: Map<string, Upstream>,
  now: () => number,
  resigners: ReadonlyMap<string, Resigner> = new Map(),
): Sender {
  const shutdown = shutdownController();
  return {
    queues: false,
    send(route, req, timeoutMs) {
      const upstream = upstreams.get(route);
      if (!upstream) throw new Error(`no upstream for route ${route}`);
      return send(upstream, req, { timeoutMs, now, signal: shutdown.signal, resign: resigners.get(route) });
    },
    release() {}, // every attempt starts at once: nothing waits
    abort(reason) {
      shutdown.abort(reason);
    },
    // The pools are the caller's (passthrough shares them), so the caller closes them.
    async close() {},
  };
}
