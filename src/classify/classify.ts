/**
 * Turns a failed attempt into exactly one LINE reason and detail (README, Error taxonomy). Pure: the same error
 * and context always give the same answer, so the table can be tested without sockets.
 */
import type { Classification } from "../model.js";
import { type ErrorFacts, errorChain } from "./error-chain.js";
import { OwnErrorCodes } from "./errors.js";
import { FALLBACK, type Matcher, RULES } from "./rules.js";

/** What the sender knew about the attempt when it failed. */
export interface ClassifyContext {
  /**
   * True once the request was handed to an established connection (undici called onRequestStart).
   * Decides between could_not_connect and unclassified for errors that can happen on either side.
   */
  requestWritten: boolean;
}

function matches(m: Matcher, f: ErrorFacts): boolean {
  if (m.code !== undefined && f.code !== m.code) return false;
  if (m.codePrefix !== undefined && !f.code?.startsWith(m.codePrefix)) return false;
  if (m.name !== undefined && f.name !== m.name) return false;
  if (m.message !== undefined && !m.message.test(f.message)) return false;
  return true;
}

/** Classifies a thrown or reported error; unknown errors are unclassified, never thrown. */
export function classifyError(err: unknown, ctx: ClassifyContext): Classification {
  const chain = errorChain(err);
  for (const rule of RULES) {
    if (rule.written !== undefined && rule.written !== ctx.requestWritten) continue;
    if (rule.match.some((m) => chain.some((f) => matches(m, f)))) return { ...rule.result };
  }
  return { ...FALLBACK };
}

/** Any response outside 2xx (3xx included: redirects are never followed) is error_status_code. */
export function classifyStatus(status: number): Classification {
  return { reason: "error_status_code", detail: String(status) };
}

/**
 * Errors caused by our own shutdown: the dispatcher was closed or destroyed under the request, or
 * the deliverer aborted with a ShutdownError. The lease is released; no attempt is recorded.
 */
const SHUTDOWN_CODES: ReadonlySet<string> = new Set([
  "UND_ERR_DESTROYED",
  "UND_ERR_CLOSED",
  OwnErrorCodes.shutdown,
]);

export function isShutdownAbort(err: unknown): boolean {
  return errorChain(err).some((f) => f.code !== null && SHUTDOWN_CODES.has(f.code));
}
