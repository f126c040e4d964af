/**
 * One delivery attempt: dispatch the stored request once, wait for the whole response, and say
 * what happened as data. Never throws and never rejects (the deliverer alone decides).
 *
 * requestWritten: undici 7 calls a dispatch handler's onRequestStart (legacy onConnect) from
 * writeH1/writeH2 only once the request has a connected socket or HTTP/2 session, immediately
 * before it writes the headers and, for a Buffer body, the body in the same synchronous step
 * (client-h1.js writeH1 -> request.onConnect -> writeBuffer). Connect, DNS and TLS failures all
 * happen before it. So "onRequestStart was called" is exactly the could_not_connect/unclassified
 * boundary of the README's error taxonomy, with no global diagnostics-channel subscription needed.
 */
import { setMaxListeners } from "node:events";
import type { Dispatcher } from "undici";
import { classifyError, classifyStatus, isShutdownAbort } from "../classify/classify.js";
import { describeError } from "../classify/describe.js";
import { RequestTimeoutError } from "../classify/errors.js";
import { type AttemptResult, type Classification, Details, RESPONSE_PREFIX_BYTES } from "../model.js";
import type { Resigner } from "../verify/resign.js";
import { parseRetryAfter } from "./retry-after.js";
import type { Upstream } from "./upstream.js";

/** The request as it is replayed. */
export interface OutgoingRequest {
  /** Absolute URL; only its path and query are used, the upstream's pool fixes the origin. */
  url: string;
  /** HTTP method, as stored. */
  method: string;
  /** Name/value pairs sent in this order and case, duplicates kept (already through forwardHeaders). */
  headers: Array<[string, string]>;
  /** The raw body bytes; content-length is computed from them. */
  body: Buffer;
}

export interface SendOptions {
  /** Deadline for the whole attempt, connect included (ms). */
  timeoutMs: number;
  /** Epoch ms; injected so tests control time. */
  now: () => number;
  /** Aborted by our shutdown: the attempt ends with `aborted: true` and is not a failure. */
  signal?: AbortSignal;
  /** The route's re-signer (`verify.resign`): signs the headers for this attempt's start time. */
  resign?: Resigner | undefined;
}

type Outcome = Pick<AttemptResult, "ok" | "statusCode" | "failure" | "aborted" | "error">;

/** What the upstream answered, kept with the attempt: the body's first bytes and its whole size. */
interface ResponseKept {
  body: Buffer;
  size: number;
}

type Finish = (outcome: Outcome, retryAfterMs?: number | null, response?: ResponseKept | null) => void;

/**
 * The controller whose signal ends every attempt in flight at shutdown. Each attempt listens on
 * it until it settles, so a route's concurrency of attempts share it at once: no listener cap
 * (Node's default of 10 would warn of a leak that is not there).
 */
export function shutdownController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/** Statuses whose Retry-After the backoff honours (README, Delivery policy). */
const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** The raw request-target after the authority, so the path reaches the upstream unnormalised. */
const REQUEST_TARGET = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*([^#]*)/i;

/** The origin-form request target of an absolute URL, exactly as written (not normalised). */
export function requestTarget(url: string): string {
  const path = REQUEST_TARGET.exec(url)?.[1] ?? "/";
  return path.startsWith("/") ? path : `/${path}`;
}

function failed(failure: Classification, error: string | null): Outcome {
  return { ok: false, statusCode: null, failure, aborted: false, error };
}

/** Performs exactly one attempt. */
export function send(upstream: Upstream, req: OutgoingRequest, opts: SendOptions): Promise<AttemptResult> {
  const startedAt = opts.now();
  return new Promise<AttemptResult>((resolve) => {
    const finish: Finish = (outcome, retryAfterMs = null, response = null): void => {
      // Spelled out: `{ ...outcome, more }` is slow on V8 11 and this runs once per attempt.
      resolve({
        ok: outcome.ok,
        statusCode: outcome.statusCode,
        failure: outcome.failure,
        aborted: outcome.aborted,
        error: outcome.error,
        startedAt,
        durationMs: opts.now() - startedAt,
        retryAfterMs,
        responseBody: response === null ? null : response.body,
        responseSize: response === null ? null : response.size,
      });
    };
    if (opts.signal?.aborted) {
      finish({ ok: false, statusCode: null, failure: null, aborted: true, error: null });
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url);
    } catch (err) {
      finish(failed(classifyError(err, { requestWritten: false }), describeError(err)));
      return;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      finish(
        failed({ reason: "could_not_connect", detail: Details.invalidUrl }, `unsupported ${url.protocol}`),
      );
      return;
    }
    const path = requestTarget(req.url);
    const headers = opts.resign ? opts.resign(req.headers, req.body, startedAt) : req.headers;
    const attempt = new Attempt(opts, finish);
    try {
      upstream.dispatcher.dispatch(
        { origin: url.origin, path, method: req.method, headers: headers.flat(), body: req.body },
        attempt,
      );
    } catch (err) {
      attempt.onResponseError(null, err as Error);
    }
  });
}

/** The dispatch handler for one attempt; settles once, then only cleans up. */
class Attempt implements Dispatcher.DispatchHandler {
  private readonly opts: SendOptions;
  private readonly finish: Finish;
  private readonly timer: NodeJS.Timeout;
  private readonly onShutdown = (): void => this.shutdown();
  private controller: Dispatcher.DispatchController | null = null;
  /** Why we cut the request short; applied as soon as undici gives us a controller. */
  private abortReason: Error | null = null;
  private written = false;
  private settled = false;
  private status: number | null = null;
  private retryAfterMs: number | null = null;
  /** The response body's first RESPONSE_PREFIX_BYTES, and how many bytes came in all. */
  private kept: Buffer | null = null;
  private keptBytes = 0;
  private responseBytes = 0;

  constructor(opts: SendOptions, finish: Finish) {
    this.opts = opts;
    this.finish = finish;
    this.timer = setTimeout(() => this.deadline(), opts.timeoutMs);
    opts.signal?.addEventListener("abort", this.onShutdown, { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason !== null) {
      controller.abort(this.abortReason);
      return;
    }
    this.written = true;
  }

  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: Record<string, unknown>): void {
    this.status = status;
    if (RETRY_AFTER_STATUSES.has(status)) {
      const value = headers["retry-after"];
      const first = Array.isArray(value) ? value[0] : value;
      this.retryAfterMs = parseRetryAfter(typeof first === "string" ? first : undefined, this.opts.now());
    }
  }

  /**
   * The body is read to the end (that lets the connection be reused); its first bytes are kept
   * for the event's history, the rest only counted.
   */
  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.responseBytes += chunk.length;
    if (this.keptBytes >= RESPONSE_PREFIX_BYTES) return;
    // Its own memory, not a slice of Node's shared pool: posting a view to the main thread copies
    // the whole ArrayBuffer behind it. A copy, since undici may reuse the chunk once this returns.
    this.kept ??= Buffer.allocUnsafeSlow(RESPONSE_PREFIX_BYTES);
    this.keptBytes += chunk.copy(this.kept, this.keptBytes, 0, RESPONSE_PREFIX_BYTES - this.keptBytes);
  }

  onResponseEnd(): void {
    this.settleWithStatus(null);
  }

  onResponseError(_c: Dispatcher.DispatchController | null, err: Error): void {
    if (this.settled) return;
    if (this.status !== null) {
      // The status already decided the outcome; a body cut short does not change it.
      this.settleWithStatus(describeError(err));
    } else if (this.opts.signal?.aborted === true || isShutdownAbort(err)) {
      this.settle({ ok: false, statusCode: null, failure: null, aborted: true, error: null });
    } else {
      this.settle(failed(classifyError(err, { requestWritten: this.written }), describeError(err)));
    }
  }

  private deadline(): void {
    if (this.settled) return;
    const reason = new RequestTimeoutError(this.opts.timeoutMs);
    if (this.status !== null) {
      this.settleWithStatus(describeError(reason));
    } else if (!this.written) {
      // No connection within the whole attempt budget. undici's own connect timer has a coarse
      // (~0.5-1 s) resolution, so ours can fire first; the stalled stage is still the connect.
      this.settle(
        failed({ reason: "could_not_connect", detail: Details.connectionTimeout }, describeError(reason)),
      );
    } else {
      this.settle(failed(classifyError(reason, { requestWritten: true }), describeError(reason)));
    }
    this.abort(reason);
  }

  private shutdown(): void {
    if (this.settled) return;
    this.settle({ ok: false, statusCode: null, failure: null, aborted: true, error: null });
    const reason = this.opts.signal?.reason;
    this.abort(reason instanceof Error ? reason : new Error("aborted by shutdown"));
  }

  private abort(reason: Error): void {
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  private settleWithStatus(error: string | null): void {
    const status = this.status ?? 0;
    const ok = status >= 200 && status < 300;
    const failure = ok ? null : classifyStatus(status);
    const body = this.kept === null ? Buffer.alloc(0) : this.kept.subarray(0, this.keptBytes);
    this.settle({ ok, statusCode: status, failure, aborted: false, error }, this.retryAfterMs, {
      body,
      size: this.responseBytes,
    });
  }

  private settle(
    outcome: Outcome,
    retryAfterMs: number | null = null,
    response: ResponseKept | null = null,
  ): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.opts.signal?.removeEventListener("abort", this.onShutdown);
    this.finish(outcome, retryAfterMs, response);
  }
}
