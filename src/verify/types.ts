/** Why a request was refused; every failure is a 401 at ingest and nothing is stored. */
export type VerifyFailureCode =
  | "missing_signature"
  | "bad_signature"
  | "stale_timestamp"
  | "malformed_signature";

export type VerifyOutcome = { ok: true } | { ok: false; code: VerifyFailureCode; message: string };

/** Reads one request header; the caller makes the lookup case-insensitive. */
export type HeaderGetter = (name: string) => string | undefined;

/** Checks one request against its raw body bytes exactly as received. */
export type Verifier = (header: HeaderGetter, body: Buffer) => VerifyOutcome;

/** Shared so the success path allocates nothing. */
export const OK: VerifyOutcome = Object.freeze({ ok: true });

/** A failure; `message` names headers and formats only, never a secret or an expected signature. */
export function fail(code: VerifyFailureCode, message: string): VerifyOutcome {
  return { ok: false, code, message };
}
