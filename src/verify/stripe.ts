import type { KeyObject } from "node:crypto";
import type { Clock } from "../clock.js";
import { decodeDigest, signedByAny } from "./digest.js";
import { checkTimestamp } from "./timestamp.js";
import { fail, OK, type Verifier } from "./types.js";

const NAME = "stripe-signature";

/**
 * Stripe: `Stripe-Signature: t=<unix s>,v1=<hex>[,v1=<hex>...]`, each v1 a HMAC-SHA256 of
 * `${t}.${body}`; several v1 appear while a secret is being rolled. Per Stripe's docs every scheme
 * other than v1 (such as test-mode v0) is ignored, to prevent downgrade attacks.
 * https://docs.stripe.com/webhooks#verify-manually
 */
export function stripeVerifier(keys: readonly KeyObject[], clock: Clock, toleranceMs: number): Verifier {
  return function verifyStripe(header, body) {
    const value = header(NAME);
    if (value === undefined || value === "") return fail("missing_signature", `missing ${NAME} header`);
    let timestamp: string | undefined;
    const signatures: Buffer[] = [];
    for (const item of value.split(",")) {
      const eq = item.indexOf("=");
      if (eq < 0) continue;
      const key = item.slice(0, eq).trim();
      if (key === "t") {
        // Two timestamps would leave it ambiguous which one was signed.
        if (timestamp !== undefined) return fail("malformed_signature", `${NAME} has more than one t=`);
        timestamp = item.slice(eq + 1).trim();
      } else if (key === "v1") {
        const signature = decodeDigest(item.slice(eq + 1).trim(), "hex", 32);
        if (signature !== null) signatures.push(signature);
      }
    }
    if (timestamp === undefined) return fail("malformed_signature", `${NAME} has no t=`);
    const stale = checkTimestamp(timestamp, `${NAME} t=`, clock.now(), toleranceMs);
    if (stale !== null) return stale;
    if (signatures.length === 0) return fail("malformed_signature", `${NAME} has no hex v1= signature`);
    if (signedByAny(keys, "sha256", [timestamp, ".", body], signatures)) return OK;
    return fail("bad_signature", `no v1= in ${NAME} matches the timestamp and body`);
  };
}
