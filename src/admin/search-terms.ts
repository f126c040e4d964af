/**
 * The search syntax shared by `GET /events`, `POST /events/redeliver`, the CLI and the dashboard
 * (README "Searching events"):
 *
 *   json=/events/0/source/userId:U123    the value at the pointer equals U123
 *   json=/events/0/source/userId:U12*    ... starts with U12
 *   json=/events/0/source/userId         ... is present and not null
 *   json=/note:=50%*                     `:=` takes the rest literally (here "50%*")
 *   header=x-github-event:push           the same three forms for a request header
 *   path=/line/callback  path=/line/*    the stored request path, exactly or by prefix
 *
 * Pure: errors are thrown as TermError and worded for the operator.
 */
import { pointerNeedsEscapes } from "../json-pointer.js";
import type { HeaderMatch, JsonMatch, TextMatch } from "../store/index.js";

export class TermError extends Error {
  override readonly name = "TermError";
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The part after the first colon: `=` literal, trailing `*` prefix, else equals; none: exists. */
function valueMatch(rest: string | null): TextMatch {
  if (rest === null) return { op: "exists" };
  if (rest.startsWith("=")) return { op: "equals", value: rest.slice(1) };
  if (rest.endsWith("*")) return { op: "prefix", value: rest.slice(0, -1) };
  return { op: "equals", value: rest };
}

function split(term: string): [string, string | null] {
  const colon = term.indexOf(":");
  return colon < 0 ? [term, null] : [term.slice(0, colon), term.slice(colon + 1)];
}

export function parseJsonTerm(term: string): JsonMatch {
  const [pointer, rest] = split(term);
  if (!pointer.startsWith("/")) {
    throw new TermError(
      `json term ${JSON.stringify(term)}: expected /json/pointer[:value], e.g. /events/0/source/userId:U123`,
    );
  }
  if (pointerNeedsEscapes(pointer)) {
    throw new TermError(
      `json term ${JSON.stringify(term)}: a pointer may not contain quotes, backslashes or control characters`,
    );
  }
  return { pointer, match: valueMatch(rest) };
}

export function parseHeaderTerm(term: string): HeaderMatch {
  const [name, rest] = split(term);
  if (!HEADER_NAME.test(name)) {
    throw new TermError(
      `header term ${JSON.stringify(term)}: expected name[:value], e.g. x-github-event:push`,
    );
  }
  return { name: name.toLowerCase(), match: valueMatch(rest) };
}

export function parsePathTerm(term: string): TextMatch {
  if (!term.startsWith("/")) throw new TermError(`path ${JSON.stringify(term)}: expected /path or /prefix*`);
  return term.endsWith("*") ? { op: "prefix", value: term.slice(0, -1) } : { op: "equals", value: term };
}
