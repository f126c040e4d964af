import type { KeyObject } from "node:crypto";
import type { Clock } from "../clock.js";
import { decodeDigest, signedByAny } from "./digest.js";
import { checkTimestamp } from "./timestamp.js";
import { fail, OK, type Verifier } from "./types.js";

const SIGNATURE = "x-slack-signature";
const TIMESTAMP = "x-slack-request-timestamp";

/**
 * Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:" + X-Slack-Request-Timestamp + ":" + body>`,
 * and requests more than five minutes from local time are to be refused as possible replays.
 * https://api.slack.com/authentication/verifying-requests-from-slack
 */
export function slackVerifier(keys: readonly KeyObject[], clock: Clock, toleranceMs: number): Verifier {
  return function verifySlack(header, body) {
    const value = header(SIGNATURE);
    if (value === undefined || value === "") return fail("missing_signature", `missing ${SIGNATURE} header`);
    const timestamp = header(TIMESTAMP);
    if (timestamp === undefined || timestamp === "") {
      return fail("missing_signature", `missing ${TIMESTAMP} header`);
    }
    const stale = checkTimestamp(timestamp, TIMESTAMP, clock.now(), toleranceMs);
    if (stale !== null) return stale;
    const signature = value.startsWith("v0=") ? decodeDigest(value.slice(3), "hex", 32) : null;
    if (signature === null)
      return fail("malformed_signature", `${SIGNATURE} is not "v0=" and a hex HMAC-SHA256`);
    if (signedByAny(keys, "sha256", ["v0:", timestamp, ":", body], [signature])) return OK;
    return fail("bad_signature", `${SIGNATURE} does not match the timestamp and body`);
  };
}
