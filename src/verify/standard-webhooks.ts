import type { KeyObject } from "node:crypto";
import type { Clock } from "../clock.js";
import { decodeDigest, signedByAny } from "./digest.js";
import { checkTimestamp } from "./timestamp.js";
import { fail, OK, type Verifier } from "./types.js";

const ID = "webhook-id";
const TIMESTAMP = "webhook-timestamp";
const SIGNATURE = "webhook-signature";
const PREFIX = "whsec_";
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The key bytes of a Standard Webhooks secret: base64 after an optional `whsec_` prefix, as the
 * reference libraries read it. Null when that is not valid base64.
 */
export function standardWebhooksKey(secret: string): Buffer | null {
  const text = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  if (text.length % 4 !== 0 || !BASE64.test(text)) return null;
  return Buffer.from(text, "base64");
}

/**
 * Standard Webhooks: `webhook-signature` is a space-separated list of `v1,<base64 HMAC-SHA256 of
 * "${webhook-id}.${webhook-timestamp}.${body}">`; entries of other versions (e.g. asymmetric `v1a`)
 * are skipped, any matching v1 passes. Timestamps outside the tolerance are refused.
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#verifying-webhook-authenticity
 */
export function standardWebhooksVerifier(
  keys: readonly KeyObject[],
  clock: Clock,
  toleranceMs: number,
): Verifier {
  return function verifyStandardWebhooks(header, body) {
    const id = header(ID);
    const timestamp = header(TIMESTAMP);
    const value = header(SIGNATURE);
    if (!id) return fail("missing_signature", `missing ${ID} header`);
    if (!timestamp) return fail("missing_signature", `missing ${TIMESTAMP} header`);
    if (!value) return fail("missing_signature", `missing ${SIGNATURE} header`);
    const stale = checkTimestamp(timestamp, TIMESTAMP, clock.now(), toleranceMs);
    if (stale !== null) return stale;
    const signatures: Buffer[] = [];
    for (const entry of value.split(" ")) {
      if (!entry.startsWith("v1,")) continue;
      const signature = decodeDigest(entry.slice(3), "base64", 32);
      if (signature !== null) signatures.push(signature);
    }
    if (signatures.length === 0)
      return fail("malformed_signature", `${SIGNATURE} has no base64 v1 signature`);
    if (signedByAny(keys, "sha256", [id, ".", timestamp, ".", body], signatures)) return OK;
    return fail("bad_signature", `no v1 in ${SIGNATURE} matches the id, timestamp and body`);
  };
}
