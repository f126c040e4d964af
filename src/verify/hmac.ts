import type { KeyObject } from "node:crypto";
import {
  DIGEST_BYTES,
  type DigestEncoding,
  decodeDigest,
  type HmacAlgorithm,
  signedByAny,
} from "./digest.js";
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
}

/**
 * One HMAC of the raw body in one header: the generic scheme, and the core of `line`, `github` and
 * `shopify`, which differ only in header name, encoding and prefix.
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
    if (signedByAny(keys, algorithm, [body], [signature])) return OK;
    return fail("bad_signature", `${name} does not match the body`);
  };
}
