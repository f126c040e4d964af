import { createHmac } from "node:crypto";
import { validateSignature } from "@line/bot-sdk";
import { sign as githubSign } from "@octokit/webhooks-methods";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { VerifyScheme } from "../../src/config/types.js";
import { getJson, startHookbuffer, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { header, type Recorder, startRecorder } from "../helpers/recorder.js";

/** Two secrets per route: the old one and the new one during a rotation. */
const ENV = {
  LINE_OLD: "8c570fa6dd201bb328f1c1eac23a96d8",
  LINE_NEW: "0123456789abcdef0123456789abcdef",
  GH_OLD: "It's a Secret to Everybody",
  GH_NEW: "gh-rotated-secret",
  STRIPE_OLD: "whsec_stripe_old_secret",
  STRIPE_NEW: "whsec_stripe_new_secret",
  SHOPIFY_OLD: "shpss_old_client_secret",
  SHOPIFY_NEW: "shpss_new_client_secret",
  SLACK_OLD: "8f742231b10e8888abcd99yyyzzz85a5",
  SLACK_NEW: "slack-rotated-signing-secret",
  SW_OLD: `whsec_${Buffer.alloc(32, 1).toString("base64")}`,
  SW_NEW: `whsec_${Buffer.alloc(32, 2).toString("base64")}`,
  HMAC_OLD: "generic-old",
  HMAC_NEW: "generic-new",
};
const WRONG = "not-the-configured-secret";
const WRONG_SW = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;

const route = (scheme: VerifyScheme, env: string, extra = "") =>
  `  - name: ${scheme}
    path: /${scheme}
    verify:
      scheme: ${scheme}
      secrets: ["\${${env}_OLD}", "\${${env}_NEW}"]${extra}
`;

const yaml = (upstream: string) => `upstream: ${upstream}
routes:
${route("line", "LINE")}${route("github", "GH")}${route("stripe", "STRIPE")}${route("shopify", "SHOPIFY")}${route("slack", "SLACK")}${route("standard-webhooks", "SW")}${route("hmac", "HMAC", '\n      header: X-Signature\n      algorithm: sha512\n      encoding: base64\n      prefix: "v1="')}  - name: open
    path: /open
`;

const stripe = new Stripe("sk_test_x");
const hmac = (alg: string, key: string | Buffer, parts: Array<string | Buffer>, enc: "hex" | "base64") => {
  const h = createHmac(alg, key);
  for (const p of parts) h.update(p);
  return h.digest(enc);
};

/** Signs `payload` as each provider does, with the provider's own library where it has one. */
async function signed(
  scheme: VerifyScheme,
  secret: string,
  payload: string,
): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000);
  switch (scheme) {
    case "line": {
      // LINE's SDK only validates; sign per LINE's docs and check the SDK agrees.
      const sig = hmac("sha256", secret, [payload], "base64");
      if (secret !== WRONG) expect(validateSignature(payload, secret, sig)).toBe(true);
      return { "X-Line-Signature": sig };
    }
    case "github":
      return { "X-Hub-Signature-256": await githubSign(secret, payload), "X-GitHub-Event": "push" };
    case "stripe":
      return { "Stripe-Signature": stripe.webhooks.generateTestHeaderString({ payload, secret }) };
    case "shopify":
      return { "X-Shopify-Hmac-SHA256": hmac("sha256", secret, [payload], "base64") };
    case "slack":
      return {
        "X-Slack-Request-Timestamp": String(now),
        "X-Slack-Signature": `v0=${hmac("sha256", secret, [`v0:${now}:`, payload], "hex")}`,
      };
    case "standard-webhooks": {
      const id = `msg_${now}_${payload.length}`;
      return {
        "webhook-id": id,
        "webhook-timestamp": String(now),
        "webhook-signature": new Webhook(secret).sign(id, new Date(now * 1000), payload),
      };
    }
    case "hmac":
      return { "X-Signature": `v1=${hmac("sha512", secret, [payload], "base64")}` };
  }
}

const SCHEMES: Array<[VerifyScheme, string]> = [
  ["line", "LINE"],
  ["github", "GH"],
  ["stripe", "STRIPE"],
  ["shopify", "SHOPIFY"],
  ["slack", "SLACK"],
  ["standard-webhooks", "SW"],
  ["hmac", "HMAC"],
];
const secretOf = (env: string, which: "OLD" | "NEW") => ENV[`${env}_${which}` as keyof typeof ENV];

async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await request(url, {
    method: "POST",
    body: Buffer.from(body),
    headers: { "content-type": "application/json", ...headers },
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

let hb: TestHookbuffer;
let up: Recorder;
beforeAll(async () => {
  up = await startRecorder();
  hb = await startHookbuffer({ yaml: yaml(up.url), env: ENV });
});
afterAll(async () => {
  await hb?.stop();
  await up?.close();
});

describe("signature verification at ingest", () => {
  test.each(SCHEMES)(
    "%s: a request signed with either rotated secret is stored and forwarded byte for byte, marked verified",
    async (scheme, env) => {
      for (const which of ["OLD", "NEW"] as const) {
        // Odd whitespace and non-ASCII: any re-serialisation would break the upstream's own check.
        const payload = `{"scheme":"${scheme}", "secret":"${which}",\n  "text":"caf\u00e9 \u{1f680}"}`;
        const res = await post(
          `${hb.ingestUrl}/${scheme}/hook`,
          payload,
          await signed(scheme, secretOf(env, which), payload),
        );
        expect(res).toEqual({ status: 200, json: { status: "accepted", id: expect.any(String) } });
        const got = await waitFor(
          () => up.requests.find((r) => r.body.toString() === payload),
          5_000,
          "delivery",
        );
        expect(got.body.equals(Buffer.from(payload))).toBe(true);
        expect(got.url).toBe(`/${scheme}/hook`);
        expect(header(got, "x-hookbuffer-verified")).toBe(scheme);
      }
    },
  );

  test.each(SCHEMES)(
    "%s: a wrong or missing signature is 401, not stored, not forwarded, and counted as rejected",
    async (scheme) => {
      const before = await getJson(`${hb.adminUrl}/stats?route=${scheme}`);
      const payload = `{"scheme":"${scheme}","forged":true}`;
      const wrong = await signed(scheme, scheme === "standard-webhooks" ? WRONG_SW : WRONG, payload);
      const bad = await post(`${hb.ingestUrl}/${scheme}/hook`, payload, wrong);
      expect(bad.status).toBe(401);
      expect(bad.json).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
      const missing = await post(`${hb.ingestUrl}/${scheme}/hook`, payload, {});
      expect(missing.status).toBe(401);
      expect(missing.json).toEqual({ error: { code: "missing_signature", message: expect.any(String) } });

      const after = await waitFor(
        async () => {
          const s = await getJson(`${hb.adminUrl}/stats?route=${scheme}`);
          return s.totals.rejected === before.totals.rejected + 2 && s;
        },
        3_000,
        "rejected count",
      );
      expect(after.totals.received).toBe(before.totals.received);
      expect(after.queue.pending + after.queue.delivering).toBe(0);
      // Give a (wrongly) stored event time to be delivered before concluding it was not.
      await new Promise((r) => setTimeout(r, 150));
      expect(up.requests.filter((r) => r.body.toString() === payload)).toEqual([]);
    },
  );

  test("a body altered after signing is refused", async () => {
    const payload = '{"amount":1}';
    const headers = await signed("github", ENV.GH_NEW, payload);
    const res = await post(`${hb.ingestUrl}/github/hook`, '{"amount":9}', headers);
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: { code: "bad_signature", message: expect.any(String) } });
  });

  test("a client cannot forge X-Hookbuffer-Verified on a route without verify", async () => {
    const payload = '{"forging":"verified"}';
    const res = await post(`${hb.ingestUrl}/open/hook`, payload, {
      "X-Hookbuffer-Verified": "line",
      "X-Hookbuffer-Event-Id": "forged",
    });
    expect(res.status).toBe(200);
    const got = await waitFor(
      () => up.requests.find((r) => r.body.toString() === payload),
      5_000,
      "delivery",
    );
    expect(header(got, "x-hookbuffer-verified")).toBeUndefined();
    expect(got.headers.filter(([k]) => k.toLowerCase() === "x-hookbuffer-event-id")).toEqual([
      ["X-Hookbuffer-Event-Id", res.json.id],
    ]);
  });

  test("a client cannot forge X-Hookbuffer-Verified through a passthrough (GET) request", async () => {
    const res = await request(`${hb.ingestUrl}/line/verify?forged=1`, {
      headers: { "X-Hookbuffer-Verified": "line" },
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const got = up.requests.find((r) => r.url === "/line/verify?forged=1");
    expect(got).toBeDefined();
    expect(got && header(got, "x-hookbuffer-verified")).toBeUndefined();
  });
});
