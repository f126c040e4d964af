import { createHmac } from "node:crypto";
import { Webhook as StandardWebhook } from "standardwebhooks";
import Stripe from "stripe";
import { Webhook as SvixWebhook } from "svix";
import { describe, expect, test } from "vitest";
import { systemClock } from "../../src/clock.js";
import type { VerifyConfig } from "../../src/config/types.js";
import { createVerifier } from "../../src/verify/index.js";
import { createResigner, type Resigner } from "../../src/verify/resign.js";
import { headers as getter } from "../helpers/verify.js";

const stripe = new Stripe("sk_test_x");
const HOUR_S = 3600;
const body = Buffer.from('{"id":"evt_1", "x":"caf\u00e9"}');
const now = () => Date.now();
const seconds = () => Math.floor(Date.now() / 1000);
const map = (pairs: Array<[string, string]>) =>
  Object.fromEntries(pairs.map(([k, v]) => [k.toLowerCase(), v]));

function resigner(cfg: Omit<VerifyConfig, "toleranceMs" | "resign">): Resigner {
  const r = createResigner({ toleranceMs: 300_000, resign: true, ...cfg });
  if (!r) throw new Error("expected a re-signer");
  return r;
}

describe("createResigner", () => {
  test("stripe: signs with the first secret, so constructEvent accepts the first but not the second", () => {
    const resign = resigner({ scheme: "stripe", secrets: ["whsec_new", "whsec_old"] });
    const original = stripe.webhooks.generateTestHeaderString({
      payload: body.toString(),
      secret: "whsec_old",
      timestamp: seconds() - HOUR_S,
    });
    const out = resign(
      [
        ["Stripe-Signature", original],
        ["Content-Type", "application/json"],
      ],
      body,
      now(),
    );
    expect(out[0]?.[0]).toBe("Stripe-Signature");
    expect(out[0]?.[1]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(out.slice(1)).toEqual([
      ["Content-Type", "application/json"],
      ["X-Hookbuffer-Original-Stripe-Signature", original],
    ]);
    expect(stripe.webhooks.constructEvent(body, out[0]?.[1] ?? "", "whsec_new").id).toBe("evt_1");
    expect(() => stripe.webhooks.constructEvent(body, out[0]?.[1] ?? "", "whsec_old")).toThrow(/signature/i);
  });

  test("leaves a request alone whose stored signature does not verify with any secret", () => {
    const resign = resigner({ scheme: "stripe", secrets: ["whsec_new"] });
    const forged = stripe.webhooks.generateTestHeaderString({
      payload: body.toString(),
      secret: "whsec_other",
    });
    const headers: Array<[string, string]> = [["stripe-signature", forged]];
    expect(resign(headers, body, now())).toBe(headers);
    expect(resign([["x-other", "1"]], body, now())).toEqual([["x-other", "1"]]);
    // A tampered body is not re-signed either.
    const good = stripe.webhooks.generateTestHeaderString({ payload: body.toString(), secret: "whsec_new" });
    const tampered = Buffer.from('{"id":"evt_2"}');
    expect(resign([["stripe-signature", good]], tampered, now())).toEqual([["stripe-signature", good]]);
  });

  test("slack: fresh X-Slack-Request-Timestamp and v0 signature over the same body", () => {
    const resign = resigner({ scheme: "slack", secrets: ["slack-secret"] });
    const ts = String(seconds() - HOUR_S);
    const sig = `v0=${createHmac("sha256", "slack-secret").update(`v0:${ts}:`).update(body).digest("hex")}`;
    const at = now();
    const out = map(
      resign(
        [
          ["X-Slack-Request-Timestamp", ts],
          ["X-Slack-Signature", sig],
        ],
        body,
        at,
      ),
    );
    expect(out["x-slack-request-timestamp"]).toBe(String(Math.floor(at / 1000)));
    const expected = createHmac("sha256", "slack-secret")
      .update(`v0:${out["x-slack-request-timestamp"]}:`)
      .update(body)
      .digest("hex");
    expect(out["x-slack-signature"]).toBe(`v0=${expected}`);
    expect(out["x-hookbuffer-original-x-slack-request-timestamp"]).toBe(ts);
    expect(out["x-hookbuffer-original-x-slack-signature"]).toBe(sig);
  });

  test("standard webhooks: svix-* and webhook-* sets are each re-signed with their own id; the libraries accept them", () => {
    const secret = `whsec_${Buffer.alloc(32, 4).toString("base64")}`;
    const resign = resigner({ scheme: "standard-webhooks", secrets: [secret] });
    const old = new Date((seconds() - HOUR_S) * 1000);
    const lib = new StandardWebhook(secret);
    const out = resign(
      [
        ["svix-id", "msg_a"],
        ["svix-timestamp", String(old.getTime() / 1000)],
        ["svix-signature", lib.sign("msg_a", old, body.toString())],
        ["webhook-id", "msg_b"],
        ["webhook-timestamp", String(old.getTime() / 1000)],
        ["webhook-signature", lib.sign("msg_b", old, body.toString())],
      ],
      body,
      now(),
    );
    const h = map(out);
    expect(new SvixWebhook(secret).verify(body.toString(), h)).toEqual({ id: "evt_1", x: "caf\u00e9" });
    expect(lib.verify(body.toString(), h)).toEqual({ id: "evt_1", x: "caf\u00e9" });
    expect(h["svix-id"]).toBe("msg_a");
    expect(h["webhook-id"]).toBe("msg_b");
    expect(Object.keys(h).filter((k) => k.startsWith("x-hookbuffer-original-"))).toHaveLength(4);
  });

  test("standard webhooks: a set the provider did not sign is not signed by hookbuffer", () => {
    const secret = `whsec_${Buffer.alloc(32, 4).toString("base64")}`;
    const resign = resigner({ scheme: "standard-webhooks", secrets: [secret] });
    const ts = seconds() - HOUR_S;
    const signature = new StandardWebhook(secret).sign("msg_a", new Date(ts * 1000), body.toString());
    const h = map(
      resign(
        [
          ["svix-id", "msg_a"],
          ["svix-timestamp", String(ts)],
          ["svix-signature", signature],
          // Added by someone else: another id under the specification's names, no valid signature.
          ["webhook-id", "msg_forged"],
          ["webhook-timestamp", String(ts)],
          ["webhook-signature", "v1,AAAA"],
        ],
        body,
        now(),
      ),
    );
    expect(h["svix-signature"]).not.toBe(signature);
    expect(h["webhook-timestamp"]).toBe(String(ts));
    expect(h["webhook-signature"]).toBe("v1,AAAA");
  });

  test("hmac with a timestamp header: the configured payload shape, prefix and encoding", () => {
    const cfg = {
      scheme: "hmac" as const,
      secrets: ["k"],
      header: "x-sig",
      algorithm: "sha512" as const,
      encoding: "base64" as const,
      prefix: "v1=",
      timestamp: { header: "x-ts", before: "v1:", between: "|" },
    };
    const resign = resigner(cfg);
    const ts = String(seconds() - HOUR_S);
    const sig = `v1=${createHmac("sha512", "k").update(`v1:${ts}|`).update(body).digest("base64")}`;
    const out = resign(
      [
        ["X-Ts", ts],
        ["X-Sig", sig],
      ],
      body,
      now(),
    );
    const verify = createVerifier({ ...cfg, toleranceMs: 60_000 }, systemClock);
    expect(verify(getter(map(out)), body)).toEqual({ ok: true });
    expect(verify(getter({ "x-ts": ts, "x-sig": sig }), body)).toMatchObject({ code: "stale_timestamp" });
  });

  test("a repeated signature header is sent once, with the fresh value; every original is kept", () => {
    const resign = resigner({ scheme: "stripe", secrets: ["whsec_a"] });
    const good = stripe.webhooks.generateTestHeaderString({ payload: body.toString(), secret: "whsec_a" });
    const out = resign(
      [
        ["stripe-signature", good],
        ["stripe-signature", "t=1,v1=00"],
      ],
      body,
      now(),
    );
    expect(out.filter(([k]) => k === "stripe-signature")).toHaveLength(1);
    expect(out.filter(([k]) => k.startsWith("X-Hookbuffer-Original-")).map(([, v]) => v)).toEqual([
      good,
      "t=1,v1=00",
    ]);
  });

  test("no re-signer without resign, or for schemes without a signed timestamp", () => {
    expect(createResigner({ scheme: "stripe", secrets: ["s"], toleranceMs: 1, resign: false })).toBeNull();
    expect(createResigner({ scheme: "stripe", secrets: ["s"], toleranceMs: 1 })).toBeNull();
    for (const scheme of ["line", "github", "shopify"] as const) {
      expect(createResigner({ scheme, secrets: ["s"], toleranceMs: 1, resign: true })).toBeNull();
    }
    expect(
      createResigner({ scheme: "hmac", secrets: ["s"], toleranceMs: 1, resign: true, header: "x-sig" }),
    ).toBeNull();
  });
});
