/**
 * Our own error codes and the two errors we create ourselves. Everything else the classifier sees
 * comes from Node or undici.
 */

/** `code`s carried by errors hookbuffer itself raises, so the classifier can match them as data. */
export const OwnErrorCodes = {
  /** Our lookup wrapper gave up on a resolver that did not answer in time. */
  dnsTimeout: "HOOKBUFFER_DNS_TIMEOUT",
  /** The per-attempt deadline expired. */
  requestTimeout: "HOOKBUFFER_REQUEST_TIMEOUT",
  /** The process is stopping; the attempt is abandoned, not failed. */
  shutdown: "HOOKBUFFER_SHUTDOWN",
} as const;

/** Raised by the deadline-wrapped `lookup` when the resolver has not answered within `dnsTimeoutMs`. */
export class DnsTimeoutError extends Error {
  override readonly name = "DnsTimeoutError";
  readonly code = OwnErrorCodes.dnsTimeout;
  /** Name that was being resolved. */
  readonly hostname: string;

  constructor(hostname: string, timeoutMs: number) {
    super(`DNS lookup of ${hostname} timed out after ${timeoutMs} ms`);
    this.hostname = hostname;
  }
}

/** The reason the deliverer aborts in-flight attempts with when the process stops. */
export class ShutdownError extends Error {
  override readonly name = "ShutdownError";
  readonly code = OwnErrorCodes.shutdown;

  constructor(message = "hookbuffer is shutting down", options?: ErrorOptions) {
    super(message, options);
  }
}

/** Raised (as an abort reason) when one attempt runs past its deadline. */
export class RequestTimeoutError extends Error {
  override readonly name = "RequestTimeoutError";
  readonly code = OwnErrorCodes.requestTimeout;

  constructor(timeoutMs: number) {
    super(`attempt exceeded its ${timeoutMs} ms deadline`);
  }
}
