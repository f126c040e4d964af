import type { Clock } from "../clock.js";
import type { VerifyConfig } from "../config/types.js";
import { githubVerifier } from "./github.js";
import { hmacVerifier } from "./hmac.js";
import { hmacKeys } from "./keys.js";
import { lineVerifier } from "./line.js";
import { shopifyVerifier } from "./shopify.js";
import { slackVerifier } from "./slack.js";
import { standardWebhooksKey, standardWebhooksVerifier } from "./standard-webhooks.js";
import { stripeVerifier } from "./stripe.js";
import type { Verifier } from "./types.js";

export { timingSafeEqual } from "./timing-safe.js";
export type { HeaderGetter, Verifier, VerifyFailureCode, VerifyOutcome } from "./types.js";

/** Clock skew allowed for timestamped schemes when none is configured: the five minutes Stripe, Slack and Standard Webhooks all document. */
export const DEFAULT_TOLERANCE_MS = 5 * 60_000;

/**
 * Builds the verifier for one route. Keys are decoded here, once; a configuration that cannot work
 * (no secret, an empty or undecodable one, `hmac` without a header) throws at startup rather than
 * refusing every request later.
 */
export function createVerifier(cfg: VerifyConfig, clock: Clock): Verifier {
  const toleranceMs =
    Number.isFinite(cfg.toleranceMs) && cfg.toleranceMs >= 0 ? cfg.toleranceMs : DEFAULT_TOLERANCE_MS;
  switch (cfg.scheme) {
    case "line":
      return lineVerifier(hmacKeys(cfg.secrets));
    case "github":
      return githubVerifier(hmacKeys(cfg.secrets));
    case "shopify":
      return shopifyVerifier(hmacKeys(cfg.secrets));
    case "stripe":
      return stripeVerifier(hmacKeys(cfg.secrets), clock, toleranceMs);
    case "slack":
      return slackVerifier(hmacKeys(cfg.secrets), clock, toleranceMs);
    case "standard-webhooks":
      return standardWebhooksVerifier(hmacKeys(cfg.secrets, standardWebhooksKey), clock, toleranceMs);
    case "hmac": {
      if (cfg.header === undefined || cfg.header === "")
        throw new Error("verify: scheme hmac needs a header");
      return hmacVerifier(hmacKeys(cfg.secrets), {
        header: cfg.header.toLowerCase(),
        algorithm: cfg.algorithm ?? "sha256",
        encoding: cfg.encoding ?? "hex",
        prefix: cfg.prefix ?? "",
        ...(cfg.timestamp && { timestamp: { ...cfg.timestamp, now: () => clock.now(), toleranceMs } }),
      });
    }
  }
}
