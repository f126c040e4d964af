// Svix sends svix-id/-timestamp/-signature, Shopify's event webhooks send shopify-hmac-sha256 and
// shopify-webhook-id: hookbuffer verifies and dedups them under those names, and the bot behind it
// still accepts them with the provider's own SDK.
import "@shopify/shopify-api/adapters/node";
import { createHmac } from "node:crypto";
import { ApiVersion, LogSeverity, shopifyApi } from "@shopify/shopify-api";
import { Webhook as SvixWebhook } from "svix";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startHookbuffer, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { type SdkBot, startSdkBot } from "../helpers/sdk-bot.js";

const SVIX_SECRET = `whsec_${Buffer.alloc(24, 5).toString("base64")}`;
const SHOPIFY_SECRET = "shpss_client_secret";

const shopify = shopifyApi({
  apiKey: "app-key",
  apiSecretKey: SHOPIFY_SECRET,
  hostName: "bot.example.com",
  apiVersion: ApiVersion.July25,
  isEmbeddedApp: false,
  logger: { level: LogSeverity.Error, log: async () => undefined },
});

let hb: TestHookbuffer;
let svixBot: SdkBot;
let shopifyBot: SdkBot;
beforeAll(async () => {
  svixBot = await startSdkBot((req, body) =>
    new SvixWebhook(SVIX_SECRET).verify(body.toString(), req.headers as Record<string, string>),
  );
  shopifyBot = await startSdkBot(async (req, body) => {
    const result = await shopify.webhooks.validate({ rawBody: body.toString(), rawRequest: req });
    if (!result.valid) throw new Error(`shopify: ${result.reason}`);
    if (result.webhookType !== "events") throw new Error(`shopify: read as ${result.webhookType}`);
  });
  hb = await startHookbuffer({
    yaml: `upstream: ${svixBot.url}
routes:
  - name: svix
    path: /svix
    verify: {scheme: standard-webhooks, secret: "${SVIX_SECRET}"}
    delivery: {dedup: standard-webhooks}
  - name: shopify
    path: /shopify
    upstream: ${shopifyBot.url}
    verify: {scheme: shopify, secret: "${SHOPIFY_SECRET}"}
    delivery: {dedup: shopify}
`,
  });
});
afterAll(async () => {
  await hb?.stop();
  await svixBot?.close();
  await shopifyBot?.close();
});

async function post(path: string, body: string, headers: Record<string, string>) {
  const res = await request(`${hb.ingestUrl}${path}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

describe("provider header names", () => {
  test("svix-* headers are verified, dedup on svix-id, and svix's Webhook.verify accepts the replay", async () => {
    const body = '{"type":"user.created","data":{"id":"user_1"}}';
    const svix = new SvixWebhook(SVIX_SECRET);
    const headersAt = (seconds: number) => ({
      "svix-id": "msg_2Lp9hy0",
      "svix-timestamp": String(seconds),
      "svix-signature": svix.sign("msg_2Lp9hy0", new Date(seconds * 1000), body),
    });
    const now = Math.floor(Date.now() / 1000);
    const first = await post("/svix/hook", body, headersAt(now));
    expect(first).toEqual({ status: 200, json: { status: "accepted", id: expect.any(String) } });
    const verdict = await waitFor(() => svixBot.verdicts[0], 5_000, "the bot's verdict");
    expect(verdict).toMatchObject({ status: 200, error: null });
    expect(verdict.body.toString()).toBe(body);

    // Svix's own retry of the same message: same svix-id, a new timestamp and signature.
    const retry = await post("/svix/hook", body, headersAt(now + 1));
    expect(retry).toEqual({ status: 200, json: { status: "duplicate", id: first.json.id } });

    const forged = await post("/svix/hook", body, { ...headersAt(now), "svix-signature": "v1,AAAA" });
    expect(forged.status).toBe(401);
  });

  test("unprefixed shopify-hmac-sha256 is verified, dedup on shopify-webhook-id, and @shopify/shopify-api validates the replay", async () => {
    const body = '{"id":820982911946154500,"name":"#1001"}';
    const headers = {
      "shopify-hmac-sha256": createHmac("sha256", SHOPIFY_SECRET).update(body).digest("base64"),
      "shopify-topic": "orders/create",
      "shopify-shop-domain": "shop.myshopify.com",
      "shopify-api-version": "2025-07",
      "shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
      "shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
    };
    const first = await post("/shopify/orders", body, headers);
    expect(first).toEqual({ status: 200, json: { status: "accepted", id: expect.any(String) } });
    const verdict = await waitFor(() => shopifyBot.verdicts[0], 5_000, "the bot's verdict");
    expect(verdict).toMatchObject({ status: 200, error: null });

    const again = await post("/shopify/orders", body, headers);
    expect(again).toEqual({ status: 200, json: { status: "duplicate", id: first.json.id } });

    const wrong = createHmac("sha256", "another-secret").update(body).digest("base64");
    const forged = await post("/shopify/orders", body, { ...headers, "shopify-hmac-sha256": wrong });
    expect(forged.status).toBe(401);
  });
});
