/**
 * A route without `verify:` holds no secret, so hookbuffer cannot re-sign its replays. For
 * providers whose signature covers a timestamp, a replay later than the provider's tolerance then
 * fails the bot's SDK check. Said once per route, the first time such a request arrives (README
 * "When your bot verifies signatures").
 */
import type { Logger } from "pino";
import type { RouteConfig } from "../config/types.js";

/** Headers that carry a signed timestamp, with who sends them and how long their SDK accepts it. */
const TIMESTAMPED: ReadonlyMap<string, string> = new Map([
  ["stripe-signature", "Stripe (constructEvent: 300 s by default)"],
  ["x-slack-request-timestamp", "Slack (5 minutes)"],
  ["svix-timestamp", "Svix (5 minutes)"],
  ["webhook-timestamp", "Standard Webhooks (5 minutes)"],
]);

export type TimestampNotice = (route: RouteConfig, headers: ReadonlyArray<[string, string]>) => void;

export function createTimestampNotice(log: Logger): TimestampNotice {
  const told = new Set<string>();
  return function noticeTimestamps(route, headers) {
    if (route.verify || told.has(route.name)) return;
    for (const [name] of headers) {
      const provider = TIMESTAMPED.get(name.toLowerCase());
      if (provider === undefined) continue;
      told.add(route.name);
      log.warn(
        { route: route.name, header: name },
        `route ${route.name} receives ${provider} webhooks without verify:, so replays after the provider's ` +
          "tolerance will fail the bot's signature check; add verify: with the signing secret and hookbuffer " +
          "re-signs each replay (verify.resign, on by default)",
      );
      return;
    }
  };
}
