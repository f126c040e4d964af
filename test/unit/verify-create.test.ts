import { createHmac } from "node:crypto";
import { describe, expect, test } from "vitest";
import type { Clock } from "../../src/clock.js";
import type { VerifyConfig, VerifyScheme } from "../../src/config/types.js";
import { createVerifier } from "../../src/verify/index.js";

const clock: Clock = { now: () => 1_700_000_000_000 };
const base = { toleranceMs: 300_000, header: "x-sig" } as const;
const SECRET = `whsec_${Buffer.from("a sufficiently long secret key").toString("base64")}`;
const SCHEMES: VerifyScheme[] = ["line", "github", "stripe", "shopify", "slack", "standard-webhooks", "hmac"];

describe("createVerifier", () => {
  test("refuses configurations that cannot work, without echoing the secret", () => {
    const make = (cfg: Partial<VerifyConfig>) => () =>
      createVerifier({ scheme: "line", secrets: [SECRET], ...base, ...cfg }, clock);
    expect(make({ secrets: [] })).toThrow(/at least one secret/);
    expect(make({ secrets: [SECRET, ""] })).toThrow(/secrets\[1\] is empty/);
    expect(make({ scheme: "standard-webhooks", secrets: ["whsec_not base64!"] })).toThrow(/secrets\[0\]/);
    expect(make({ scheme: "standard-webhooks", secrets: ["whsec_"] })).toThrow(/secrets\[0\]/);
    expect(make({ scheme: "hmac", header: "" })).toThrow(/header/);
    try {
      make({ scheme: "standard-webhooks", secrets: ["whsec_not base64!"] })();
    } catch (err) {
      expect(String(err)).not.toContain("not base64!");
    }
  });

  test("failure messages never contain a secret or an expected signature", () => {
    const body = Buffer.from('{"hello":"world"}');
    const expectedHex = createHmac("sha256", SECRET).update(body).digest("hex");
    const expectedBase64 = createHmac("sha256", SECRET).update(body).digest("base64");
    const wrong = { hex: "ab".repeat(32), base64: Buffer.alloc(32, 1).toString("base64") };
    const values: Record<string, string> = {
      "x-line-signature": wrong.base64,
      "x-hub-signature-256": `sha256=${wrong.hex}`,
      "stripe-signature": `t=1700000000,v1=${wrong.hex}`,
      "x-shopify-hmac-sha256": wrong.base64,
      "x-slack-signature": `v0=${wrong.hex}`,
      "x-slack-request-timestamp": "1700000000",
      "webhook-id": "msg_1",
      "webhook-timestamp": "1700000000",
      "webhook-signature": `v1,${wrong.base64}`,
      "x-sig": wrong.hex,
    };
    for (const scheme of SCHEMES) {
      const outcome = createVerifier({ scheme, secrets: [SECRET], ...base }, clock)(
        (name) => values[name],
        body,
      );
      expect(outcome, scheme).toMatchObject({ ok: false, code: "bad_signature" });
      if (outcome.ok) continue;
      for (const leak of [SECRET, SECRET.slice(6), expectedHex, expectedBase64]) {
        expect(outcome.message, scheme).not.toContain(leak);
      }
    }
  });
});
