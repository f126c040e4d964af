import { createHmac, type KeyObject } from "node:crypto";
import { timingSafeEqual } from "./timing-safe.js";

export type HmacAlgorithm = "sha1" | "sha256" | "sha512";
export type DigestEncoding = "hex" | "base64";

/** Digest sizes in bytes, so a signature of the wrong size is refused before any HMAC is computed. */
export const DIGEST_BYTES: Readonly<Record<HmacAlgorithm, number>> = { sha1: 20, sha256: 32, sha512: 64 };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Decodes a signature as sent, or null when it is not exactly one digest in `encoding`. Buffer's
 * decoders skip bad characters instead of failing, hence the checks: a hex decoder stops at the
 * first non-hex pair (so the decoded length catches it), base64 needs the alphabet checked.
 */
export function decodeDigest(text: string, encoding: DigestEncoding, bytes: number): Buffer | null {
  if (encoding === "hex") {
    if (text.length !== bytes * 2) return null;
  } else if (text.length !== 4 * Math.ceil(bytes / 3) || !BASE64.test(text)) {
    return null;
  }
  const decoded = Buffer.from(text, encoding);
  return decoded.length === bytes ? decoded : null;
}

/**
 * True when the HMAC of `parts` under any key equals any of `signatures`. Strings are header values
 * or ASCII separators, hashed as latin1 because that is how Node decoded their wire bytes; the body
 * is hashed as the raw Buffer, never re-serialised.
 */
export function signedByAny(
  keys: readonly KeyObject[],
  algorithm: HmacAlgorithm,
  parts: ReadonlyArray<string | Buffer>,
  signatures: readonly Buffer[],
): boolean {
  for (const key of keys) {
    const hmac = createHmac(algorithm, key);
    for (const part of parts) {
      if (typeof part === "string") hmac.update(part, "latin1");
      else hmac.update(part);
    }
    const expected = hmac.digest();
    for (const signature of signatures) {
      if (timingSafeEqual(expected, signature)) return true;
    }
  }
  return false;
}
