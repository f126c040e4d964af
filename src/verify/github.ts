import type { KeyObject } from "node:crypto";
import { hmacVerifier } from "./hmac.js";
import type { Verifier } from "./types.js";

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. The legacy SHA-1
 * `X-Hub-Signature` is deliberately not accepted; GitHub recommends the SHA-256 header.
 * https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 */
export function githubVerifier(keys: readonly KeyObject[]): Verifier {
  return hmacVerifier(keys, {
    header: "x-hub-signature-256",
    algorithm: "sha256",
    encoding: "hex",
    prefix: "sha256=",
  });
}
