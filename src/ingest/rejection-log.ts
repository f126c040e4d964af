import type { Logger } from "pino";

/** Reports signature refusals to the log; a flood of junk must not become a flood of lines. */
export type RejectionLog = (route: string, code: string, message: string) => void;

/**
 * One warn line per route per `intervalMs` at most, carrying how many refusals went unlogged since
 * the previous line. The message comes from the verifier, which names headers and formats only,
 * never a secret or an expected signature.
 */
export function createRejectionLog(log: Logger, now: () => number, intervalMs = 60_000): RejectionLog {
  const last = new Map<string, { at: number; suppressed: number }>();
  return function logRejection(route, code, message) {
    const at = now();
    const previous = last.get(route);
    if (previous !== undefined && at - previous.at < intervalMs) {
      previous.suppressed += 1;
      return;
    }
    log.warn(
      { route, code, reason: message, unlogged: previous?.suppressed ?? 0 },
      "signature check refused a request",
    );
    last.set(route, { at, suppressed: 0 });
  };
}
