/** A short, single-line, log-safe description of an error, e.g. "ECONNREFUSED connect 127.0.0.1:1234". */
import { type ErrorFacts, errorChain } from "./error-chain.js";

const MAX_LENGTH = 200;

/** OpenSSL messages carry a path and line; the reason between "SSL routines:fn:" and ":" is what matters. */
const OPENSSL_REASON = /SSL routines:[^:]*:([^:]+)/;

function tidy(f: ErrorFacts): string {
  const openssl = OPENSSL_REASON.exec(f.message);
  let text = openssl?.[1] ?? f.message;
  // Node repeats the code inside the message ("connect ECONNREFUSED 127.0.0.1:1234").
  if (f.code !== null) text = text.replace(f.code, "");
  // Control characters (newlines included) would let a hostile peer forge log lines.
  text = text
    .replace(/\p{Cc}+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
  const parts = [f.code ?? (f.name || "Error"), text].filter((p) => p !== "");
  return parts.join(" ");
}

export function describeError(err: unknown): string {
  const chain = errorChain(err);
  // Prefer the outermost error that names a code and says something; AggregateErrors often say nothing.
  const best = chain.find((f) => f.code !== null && f.message !== "") ?? chain.find((f) => f.message !== "");
  const text = best === undefined ? "unknown error" : tidy(best);
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text;
}
