import { fail, type VerifyOutcome } from "./types.js";

/** Unix seconds; twelve digits reach the year 33658, more is surely not a timestamp. */
const SECONDS = /^\d{1,12}$/;

/**
 * Replay protection shared by the timestamped schemes: the signed timestamp must lie within
 * `toleranceMs` of now in either direction. Stripe's libraries only refuse old timestamps; we also
 * refuse ones too far ahead, since a future timestamp would extend a captured request's lifetime.
 * Returns null when the timestamp is acceptable.
 */
export function checkTimestamp(
  text: string,
  name: string,
  nowMs: number,
  toleranceMs: number,
): VerifyOutcome | null {
  if (!SECONDS.test(text)) return fail("malformed_signature", `${name} is not a Unix timestamp in seconds`);
  const ageMs = nowMs - Number(text) * 1000;
  if (ageMs > toleranceMs) {
    return fail("stale_timestamp", `${name} is ${Math.round(ageMs / 1000)} s old, beyond the tolerance`);
  }
  if (-ageMs > toleranceMs) {
    return fail(
      "stale_timestamp",
      `${name} is ${Math.round(-ageMs / 1000)} s in the future, beyond the tolerance`,
    );
  }
  return null;
}
