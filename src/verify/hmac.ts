import type { KeyObject } from "node:crypto";
import {
  DIGEST_BYTES,
  type DigestEncoding,
  decodeDigest,
  type HmacAlgorithm,
  signedByAny,
} from "./digest.js";
import { checkTimestamp } from "./timestamp.js";
import { fail, OK, type Verifier } from "./types.js";

export interface HmacOptions {
  /** Lower-case name of the header carrying the signature. */
  header: string;
  /** Another lower-case name the provider may send it under, read when `header` is absent. */
  alias?: string;
  algorithm: HmacAlgorithm;
  encoding: DigestEncoding;
  /** Text before the digest in the header, e.g. "sha256="; "" for none. */
  prefix: string;
  /** A signed Unix-seconds timestamp: the HMAC covers `before + timestamp + between + body`. */
  timestamp?: SignedTimestamp;
}

export interface SignedTimestamp {
  /** Lower-case name of the header carrying the timestamp. */
  header: string;
  before: string;
  between: string;
  /** Epoch ms now, for the tolerance. */
  now: () => number;
  /** How far the timestamp may lie from now, either way (ms). */
  toleranceMs: number;
}

/**
 * One HMAC of the raw body in one header: the generic scheme, and the core of `line`, `github` and
 * `shopify`, which differ only in header name, encoding and prefix. With `timestamp`, the generic
 * scheme also signs a timestamp header and refuses it outside the tolerance.
 */
export function hmacVerifier(keys: readonly KeyObject[], options: HmacOptions): Verifier {
  const { header: name, alias, algorithm, encoding, prefix } = options;
  const bytes = DIGEST_BYTES[algorithm];
  const missing = alias === undefined ? `missing ${name} header` : `missing ${name} (or ${alias}) header`;
  return function verifyHmac(header, body) {
    const value = header(name) || (alias === undefined ? undefined : header(alias));
    if (value === undefined || value === "") return fail("missing_signature", missing);
    if (!value.startsWith(prefix))
      return fail("malformed_signature", `${name} does not start with "${prefix}"`);
    const signature = decodeDigest(value.slice(prefix.length), encoding, bytes);
    if (signature === null) {
      return fail("malformed_signature", `${name} is not a ${encoding} HMAC-${algorithm.toUpperCase()}`);
    }
    const stamp = options.timestamp;
    if (stamp === undefined) {
      if (signedByAny(keys, algorithm, [body], [signature])) return OK;
      return fail("bad_signature", `${name} does not match the body`);
    }
    const timestamp = header(stamp.header);
    if (!timestamp) return fail("missing_signature", `missing ${stamp.header} header`);
    const stale = checkTimestamp(timestamp, stamp.header, stamp.now(), stamp.toleranceMs);
    if (stale !== null) return stale;
    if (signedByAny(keys, algorithm, [stamp.before, timestamp, stamp.between, body], [signature])) return OK;
    return fail("bad_signature", `${name} does not match ${stamp.header} and the body`);
  };
}
