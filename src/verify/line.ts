import type { KeyObject } from "node:crypto";
import { hmacVerifier } from "./hmac.js";
import type { Verifier } from "./types.js";

/**
 * LINE Messaging API: `x-line-signature` is the base64 HMAC-SHA256 of the request body keyed with
 * the channel secret. https://developers.line.biz/en/reference/messaging-api/#signature-validation
 */
export function lineVerifier(keys: readonly KeyObject[]): Verifier {
  return hmacVerifier(keys, {
    header: "x-line-signature",
    algorithm: "sha256",
    encoding: "base64",
    prefix: "",
  });
}
