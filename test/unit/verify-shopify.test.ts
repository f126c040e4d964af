import { createHmac } from "node:crypto";
import { describe, expect, test } from "vitest";
import type { Clock } from "../../src/clock.js";
import { createVerifier } from "../../src/verify/index.js";
import { assertSignThenFlip, headers } from "../helpers/verify.js";

const clock: Clock = { now: () => 1_700_000_000_000 };
const SECRET = "shop-secret";
const OTHER = "old-shop-secret";
const verify = createVerifier({ scheme: "shopify", secrets: [SECRET], toleranceMs: 300_000 }, clock);

/** Our own reference from Shopify's docs: base64 HMAC-SHA256 of the raw body. */
const reference = (secret: string, body: Uint8Array) =>
  createHmac("sha256", secret).update(body).digest("base64");

describe("shopify", () => {
  const body = Buffer.from('{"id":1}');
  // Shopify publishes no vector; this one was computed with `openssl dgst -sha256 -hmac shop-secret -binary | base64`.
  const known = "plW8VGqq0nDMIEhDqaNNW99asdUCy7EIqLZVcQwtAZ0=";

  test("accepts a signature computed independently with openssl", () => {
    expect(verify(headers({ "X-Shopify-Hmac-SHA256": known }), body)).toEqual({ ok: true });
    expect(reference(SECRET, body)).toBe(known);
  });

  test("refuses a tampered body, a wrong secret and a missing header with the right code", () => {
    expect(verify(headers({ "x-shopify-hmac-sha256": known }), Buffer.from('{"id":2}'))).toMatchObject({
      code: "bad_signature",
    });
    expect(verify(headers({ "x-shopify-hmac-sha256": reference(OTHER, body) }), body)).toMatchObject({
      code: "bad_signature",
    });
    expect(verify(headers({}), body)).toMatchObject({ ok: false, code: "missing_signature" });
    // The same digest in hex is the wrong encoding for Shopify.
    const hex = Buffer.from(known, "base64").toString("hex");
    expect(verify(headers({ "x-shopify-hmac-sha256": hex }), body)).toMatchObject({
      code: "malformed_signature",
    });
  });

  test("reads the unprefixed shopify-hmac-sha256 of Shopify's event webhooks", () => {
    expect(verify(headers({ "shopify-hmac-sha256": known }), body)).toEqual({ ok: true });
    expect(verify(headers({ "shopify-hmac-sha256": reference(OTHER, body) }), body)).toMatchObject({
      code: "bad_signature",
    });
    expect(verify(headers({}), body)).toMatchObject({
      message: "missing x-shopify-hmac-sha256 (or shopify-hmac-sha256) header",
    });
  });

  test("accepts a signature made with the second secret during a rotation", () => {
    const rotating = createVerifier({ scheme: "shopify", secrets: [OTHER, SECRET], toleranceMs: 0 }, clock);
    expect(rotating(headers({ "x-shopify-hmac-sha256": known }), body).ok).toBe(true);
  });

  test("for random binary bodies, sign-then-verify passes and a one-byte flip fails", () => {
    assertSignThenFlip(verify, (raw) => headers({ "x-shopify-hmac-sha256": reference(SECRET, raw) }));
  });
});
