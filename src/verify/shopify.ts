import type { KeyObject } from "node:crypto";
import { hmacVerifier } from "./hmac.js";
import type { Verifier } from "./types.js";

/**
 * Shopify: `X-Shopify-Hmac-SHA256` is the base64 HMAC-SHA256 of the raw body keyed with the app's
 * client secret; Shopify's newer event webhooks send it as `shopify-hmac-sha256`, without the `X-`.
 * https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-2-validate-the-origin-of-your-webhook
 */
export function shopifyVerifier(keys: readonly KeyObject[]): Verifier {
  return hmacVerifier(keys, {
    header: "x-shopify-hmac-sha256",
    alias: "shopify-hmac-sha256",
    algorithm: "sha256",
    encoding: "base64",
    prefix: "",
  });
}
