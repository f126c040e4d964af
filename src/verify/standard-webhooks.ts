import type { KeyObject } from "node:crypto";
import type { Clock } from "../clock.js";
import { decodeDigest, signedByAny } from "./digest.js";
import { checkTimestamp } from "./timestamp.js";
import { fail, type HeaderGetter, OK, type Verifier } from "./types.js";

/**
 * Svix sends the same three headers as `svix-*`; `webhook-*` is the specification's (and Svix's
 * white-label) spelling. Like the svix library, each `svix-` header wins over its `webhook-` twin.
 */
const PREFIXES = ["svix-", "webhook-"] as const;
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

/** A Standard Webhooks header by its suffix (`id`, `timestamp`, `signature`), under either prefix. */
function read(header: HeaderGetter, suffix: string): [name: string, value: string] | undefined {
  for (const prefix of PREFIXES) {
    const value = header(prefix + suffix);
    if (value) return [prefix + suffix, value];
  }
  return undefined;
}

/**
 * Standard Webhooks: `webhook-signature` is a space-separated list of `v1,<base64 HMAC-SHA256 of
 * "${webhook-id}.${webhook-timestamp}.${body}">`; entries of other versions (e.g. asymmetric `v1a`)
 * are skipped, any matching v1 passes. Timestamps outside the tolerance are refused. Svix's
 * `svix-id`, `svix-timestamp` and `svix-signature` are read as well.
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#verifying-webhook-authenticity
 */
export function standardWebhooksVerifier(
  keys: readonly KeyObject[],
  clock: Clock,
  toleranceMs: number,
): Verifier {
  return function verifyStandardWebhooks(header, body) {
    const id = read(header, "id");
    const timestamp = read(header, "timestamp");
    const value = read(header, "signature");
    if (!id) return fail("missing_signature", "missing webhook-id (or svix-id) header");
    if (!timestamp) return fail("missing_signature", "missing webhook-timestamp (or svix-timestamp) header");
    if (!value) return fail("missing_signature", "missing webhook-signature (or svix-signature) header");
    const stale = checkTimestamp(timestamp[1], timestamp[0], clock.now(), toleranceMs);
    if (stale !== null) return stale;
    const signatures: Buffer[] = [];
    for (const entry of value[1].split(" ")) {
      if (!entry.startsWith("v1,")) continue;
      const signature = decodeDigest(entry.slice(3), "base64", 32);
      if (signature !== null) signatures.push(signature);
    }
    if (signatures.length === 0) return fail("malformed_signature", `${value[0]} has no base64 v1 signature`);
    if (signedByAny(keys, "sha256", [id[1], ".", timestamp[1], ".", body], signatures)) return OK;
    return fail("bad_signature", `no v1 in ${value[0]} matches the id, timestamp and body`);
  };
}
