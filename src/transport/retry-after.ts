/**
 * Retry-After (RFC 9110 §10.2.3) is either delay-seconds or an HTTP-date. Weighing it against the
 * retry schedule and capping it at max_delay is the backoff's job; this only reads the header.
 */

/** delay-seconds = 1*DIGIT; nothing else (no sign, no fraction) is valid. */
const DELAY_SECONDS = /^\d+$/;

/**
 * All three HTTP-date forms (IMF-fixdate, obsolete RFC 850, asctime) start with a day name; this
 * keeps Date.parse from reading junk such as "1.5" as a date.
 */
const HTTP_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /;

/** asctime ("Sun Nov  6 08:49:37 1994") has no zone; RFC 9110 §5.6.7 says it is UTC, Date.parse says local. */
const ASCTIME = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/** Retry-After as a delay in ms from `nowMs` (a past date is 0), or null when absent or invalid. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (DELAY_SECONDS.test(text)) {
    const ms = Number(text) * 1000;
    return Number.isSafeInteger(ms) ? ms : null;
  }
  if (!HTTP_DATE.test(text)) return null;
  const at = Date.parse(ASCTIME.test(text) ? `${text} GMT` : text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}
