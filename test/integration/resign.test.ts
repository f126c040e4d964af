// Re-signing on replay: a webhook whose first delivery fails and whose retry comes after the
// provider's tolerance (hookbuffer's clock moves an hour while the bot is down) still passes the
// provider's own SDK in the bot, because hookbuffer re-signs each attempt with a fresh timestamp.
import { createHmac } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HTTPModuleFunctions } from "@slack/bolt";
import { Webhook as StandardWebhook } from "standardwebhooks";
import Stripe from "stripe";
import { Webhook as SvixWebhook } from "svix";
import { describe, expect } from "vitest";
import type { Clock } from "../../src/clock.js";
import { type Start, test } from "../helpers/harness.js";
import { waitFor } from "../helpers/hookbuffer.js";
import { post, postJson } from "../helpers/post.js";
import { headerOf, type Verdict } from "../helpers/sdk-bot.js";

const HOUR = 3_600_000;
const STRIPE_SECRET = "whsec_stripe_endpoint_secret";
const SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const SW_SECRET = `whsec_${Buffer.alloc(32, 3).toString("base64")}`;
const HMAC_SECRET = "zoom-style-secret-token";
const stripe = new Stripe("sk_test_x");

/** hookbuffer's clock: an hour behind the bot's until the bot, down, moves it on. */
function movableClock() {
  let offsetMs = -HOUR;
  const clock: Clock = { now: () => Date.now() + offsetMs };
  const anHourPasses = () => {
    offsetMs = 0;
  };
  return { clock, anHourPasses };
}

const hmacHex = (key: string | Buffer, text: string, enc: "hex" | "base64" = "hex") =>
  createHmac("sha256", key).update(text).digest(enc);

interface Scheme {
  name: string;
  /** The route's verify block (YAML flow mapping). */
  verify: string;
  /** The provider's headers for `body`, signed at `seconds`. */
  sign(body: string, seconds: number): Record<string, string>;
  /** The bot's check with the provider's SDK; throws when it refuses. */
  check(req: IncomingMessage, body: Buffer): unknown;
  /** The headers a re-signature replaces. */
  signed: string[];
}

/** Stripe's scheme, the bot checking with `constructEvent` or `constructEventAsync`. */
function stripeScheme(name: string, construct: (body: Buffer, header: string) => unknown): Scheme {
  return {
    name,
    verify: `{scheme: stripe, secret: ${STRIPE_SECRET}}`,
    sign: (payload, timestamp) => ({
      "Stripe-Signature": stripe.webhooks.generateTestHeaderString({
        payload,
        secret: STRIPE_SECRET,
        timestamp,
      }),
    }),
    check: (req, body) => construct(body, headerOf(req, "stripe-signature")),
    signed: ["Stripe-Signature"],
  };
}

/** One scheme under Svix's header names or the specification's, signed and checked by that SDK. */
function standardWebhooksScheme(
  name: string,
  prefix: "svix-" | "webhook-",
  Sdk: new (
    secret: string,
  ) => {
    sign(id: string, at: Date, body: string): string;
    verify(body: string, headers: Record<string, string>): unknown;
  },
): Scheme {
  const sdk = new Sdk(SW_SECRET);
  const id = `msg_${name}_p5jXN8AQM9LWM0D4loKWxJek`;
  return {
    name,
    verify: `{scheme: standard-webhooks, secret: "${SW_SECRET}"}`,
    sign: (body, seconds) => ({
      [`${prefix}id`]: id,
      [`${prefix}timestamp`]: String(seconds),
      [`${prefix}signature`]: sdk.sign(id, new Date(seconds * 1000), body),
    }),
    check: (req, body) => sdk.verify(body.toString(), req.headers as Record<string, string>),
    signed: [`${prefix}timestamp`, `${prefix}signature`],
  };
}

const SCHEMES: Scheme[] = [
  stripeScheme("stripe", (body, header) => stripe.webhooks.constructEvent(body, header, STRIPE_SECRET)),
  stripeScheme("stripe-async", (body, header) =>
    stripe.webhooks.constructEventAsync(body, header, STRIPE_SECRET),
  ),
  {
    name: "slack",
    verify: `{scheme: slack, secret: ${SLACK_SECRET}}`,
    sign: (body, seconds) => ({
      "X-Slack-Request-Timestamp": String(seconds),
      "X-Slack-Signature": `v0=${hmacHex(SLACK_SECRET, `v0:${seconds}:${body}`)}`,
    }),
    // What Bolt's HTTPReceiver runs on every request.
    check: (req) => HTTPModuleFunctions.parseAndVerifyHTTPRequest({ signingSecret: SLACK_SECRET }, req),
    signed: ["X-Slack-Request-Timestamp", "X-Slack-Signature"],
  },
  standardWebhooksScheme("svix", "svix-", SvixWebhook),
  standardWebhooksScheme("standard-webhooks", "webhook-", StandardWebhook),
  {
    // A Zoom-style signature through the generic scheme; no SDK, so the bot checks by the docs.
    name: "hmac",
    verify: `{scheme: hmac, secret: ${HMAC_SECRET}, header: x-zm-signature, prefix: "v0=", timestamp_header: x-zm-request-timestamp, signed_payload: "v0:{timestamp}:{body}"}`,
    sign: (body, seconds) => ({
      "x-zm-request-timestamp": String(seconds),
      "x-zm-signature": `v0=${hmacHex(HMAC_SECRET, `v0:${seconds}:${body}`)}`,
    }),
    check: (req, body) => {
      const ts = headerOf(req, "x-zm-request-timestamp");
      if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) throw new Error("timestamp outside 5 minutes");
      if (headerOf(req, "x-zm-signature") !== `v0=${hmacHex(HMAC_SECRET, `v0:${ts}:${body.toString()}`)}`) {
        throw new Error("signature mismatch");
      }
    },
    signed: ["x-zm-request-timestamp", "x-zm-signature"],
  },
];

/**
 * Posts one webhook signed at hookbuffer's (an hour behind) now to a route that verifies with
 * `scheme`, behind a bot that is down for the first attempt and moves hookbuffer's clock an hour
 * on meanwhile. Resolves with the bot's verdicts on both attempts and the headers that were sent.
 */
async function lateRetry(start: Start, scheme: Scheme, extra = "", deliveryThread = true) {
  const { clock, anHourPasses } = movableClock();
  const bot = await start.sdkBot(scheme.check, { downFor: 1, whileDown: anHourPasses });
  const hb = await start.hookbuffer({
    yaml: `upstream: ${bot.url}
delivery_thread: ${deliveryThread}
routes:
  - name: hooks
    path: /hooks
    verify: ${scheme.verify.replace(/}$/, `${extra}}`)}
    delivery: {retry: {schedule: [0s, 1s]}}
`,
    clock,
  });
  // Odd spacing and non-ASCII: the body must reach the SDK byte for byte.
  const body = `{"id":"evt_1","type":"invoice.paid", "note":"caf\u00e9 \u{1f680}"}`;
  const sent = scheme.sign(body, Math.floor(clock.now() / 1000));
  expect((await postJson(`${hb.ingestUrl}/hooks/events`, body, sent)).status).toBe(200);
  const verdicts = await waitFor(() => bot.verdicts.length >= 2 && bot.verdicts, 10_000, "the retry");
  return { body, sent, verdicts: verdicts as Verdict[] };
}

const sentValue = (v: Verdict, name: string) =>
  v.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

describe("re-signing on replay", () => {
  test.for(SCHEMES.map((s) => [s.name, s] as const))(
    "%s: a retry an hour later is accepted by the provider's SDK, body byte for byte, originals kept",
    async ([_name, scheme], { start }) => {
      const { body, sent, verdicts } = await lateRetry(start, scheme);
      const [down, retry] = verdicts as [Verdict, Verdict];
      expect(down.status).toBe(503);
      expect(retry).toMatchObject({ status: 200, error: null });
      expect(retry.body.equals(Buffer.from(body))).toBe(true);
      for (const name of scheme.signed) {
        // Re-signed in place under the provider's own spelling, the original kept for audit.
        expect(retry.headers.filter(([k]) => k === name)).toHaveLength(1);
        expect(sentValue(retry, name)).not.toBe(sent[name]);
        expect(sentValue(retry, `X-Hookbuffer-Original-${name}`)).toBe(sent[name]);
      }
      // The premise: what the provider sent is refused by the same SDK by now.
      const stale = await start.sdkBot(scheme.check);
      expect((await postJson(stale.url, body, sent)).status).toBe(400);
    },
  );

  test("re-signs on the main thread too (delivery_thread: false), with constructEventAsync", async ({
    start,
  }) => {
    const scheme = SCHEMES.find((s) => s.name === "stripe-async") as Scheme;
    const { verdicts } = await lateRetry(start, scheme, "", false);
    expect(verdicts[1]).toMatchObject({ status: 200, error: null });
  });

  test("with resign: false the retry carries the provider's headers unchanged and the SDK refuses it", async ({
    start,
  }) => {
    const scheme = SCHEMES[0] as Scheme;
    const { sent, verdicts } = await lateRetry(start, scheme, ", resign: false");
    const retry = verdicts[1] as Verdict;
    expect(retry.status).toBe(400);
    expect(retry.error).toMatch(/tolerance/i);
    expect(sentValue(retry, "Stripe-Signature")).toBe(sent["Stripe-Signature"]);
    expect(retry.headers.some(([k]) => k.toLowerCase().startsWith("x-hookbuffer-original-"))).toBe(false);
  });

  test("a route without verify: that receives timestamped signatures says so once, pointing to resign", async ({
    start,
  }) => {
    const bot = await start.sdkBot(() => undefined);
    const hb = await start.hookbuffer({
      yaml: `upstream: ${bot.url}
routes:
  - {name: open, path: /open}
  - {name: other, path: /other}
  - {name: stripe, path: /stripe, verify: {scheme: stripe, secret: ${STRIPE_SECRET}}}
`,
    });
    const send = async (path: string, headers: Record<string, string>) =>
      expect((await post(`${hb.ingestUrl}${path}`, "{}", headers)).status).toBe(200);
    const signature = () =>
      stripe.webhooks.generateTestHeaderString({ payload: "{}", secret: STRIPE_SECRET });
    await send("/open", { "x-plain": "1" });
    for (let i = 0; i < 3; i++) await send("/open", { "Stripe-Signature": signature() });
    await send("/other", { "svix-id": "msg_1", "svix-timestamp": "1", "svix-signature": "v1,x" });
    await send("/stripe", { "Stripe-Signature": signature() });
    const warnings = () => hb.logs.filter((line) => line.includes("without verify:"));
    await waitFor(() => warnings().length >= 2, 5_000, "the warnings");
    const lines = warnings().map((line) => JSON.parse(line) as { route: string; msg: string; level: number });
    expect(lines.map((l) => [l.route, l.level])).toEqual([
      ["open", 40],
      ["other", 40],
    ]);
    expect(lines[0]?.msg).toContain("Stripe");
    expect(lines[0]?.msg).toContain("verify.resign");
    expect(lines[1]?.msg).toContain("Svix");
    // Nothing of the signature itself is logged.
    expect(hb.logs.join("\n")).not.toContain("v1=");
  });
});
