import { createHmac } from "node:crypto";
import Stripe from "stripe";
import { describe, expect, test } from "vitest";
import type { Clock } from "../../src/clock.js";
import { createVerifier } from "../../src/verify/index.js";
import { assertSignThenFlip, headers } from "../helpers/verify.js";

const T = 1_700_000_000;
const clock: Clock = { now: () => T * 1000 };
const SECRET = "whsec_test_secret_one";
const OTHER = "whsec_test_secret_two";
const TOLERANCE_MS = 300_000;
const verify = createVerifier({ scheme: "stripe", secrets: [SECRET], toleranceMs: TOLERANCE_MS }, clock);
const stripe = new Stripe("sk_test_x");

/** Our own reference from Stripe's "verify manually" docs: hex HMAC-SHA256 of `${t}.${body}`. */
const v1 = (secret: string, t: number, body: Uint8Array) =>
  createHmac("sha256", secret).update(`${t}.`).update(body).digest("hex");

describe("stripe", () => {
  const payload = JSON.stringify({ id: "evt_1", object: "event", type: "charge.succeeded" });
  const body = Buffer.from(payload);
  const stripeHeader = (secret: string, timestamp = T) =>
    stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });

  test("accepts a header from stripe's generateTestHeaderString", () => {
    expect(verify(headers({ "Stripe-Signature": stripeHeader(SECRET) }), body)).toEqual({ ok: true });
  });

  test("stripe's constructEvent accepts the headers we accept, including several v1", () => {
    const header = `t=${T},v1=${v1(OTHER, T, body)},v1=${v1(SECRET, T, body)},v0=${"0".repeat(64)}`;
    expect(verify(headers({ "stripe-signature": header }), body).ok).toBe(true);
    const event = stripe.webhooks.constructEvent(body, header, SECRET, 300, undefined, T * 1000);
    expect(event.id).toBe("evt_1");
  });

  test("refuses a tampered body, a wrong secret and a missing header with the right code", () => {
    const header = stripeHeader(SECRET);
    expect(
      verify(headers({ "stripe-signature": header }), Buffer.from(payload.replace("evt_1", "evt_2"))),
    ).toMatchObject({
      code: "bad_signature",
    });
    expect(verify(headers({ "stripe-signature": stripeHeader(OTHER) }), body)).toMatchObject({
      code: "bad_signature",
    });
    expect(verify(headers({}), body)).toMatchObject({ ok: false, code: "missing_signature" });
    expect(verify(headers({ "stripe-signature": `v1=${v1(SECRET, T, body)}` }), body)).toMatchObject({
      code: "malformed_signature",
    });
    expect(verify(headers({ "stripe-signature": `t=${T},v0=${v1(SECRET, T, body)}` }), body)).toMatchObject({
      code: "malformed_signature",
    });
  });

  test("ignores items without '=' instead of misreading them", () => {
    const header = `tX,${stripeHeader(SECRET)},v1`;
    expect(verify(headers({ "stripe-signature": header }), body).ok).toBe(true);
    expect(verify(headers({ "stripe-signature": `t${T},v1=${v1(SECRET, T, body)}` }), body)).toMatchObject({
      code: "malformed_signature",
    });
  });

  test("refuses a timestamp older than the tolerance, as constructEvent does", () => {
    const old = T - 301;
    const header = stripeHeader(SECRET, old);
    expect(verify(headers({ "stripe-signature": header }), body)).toMatchObject({ code: "stale_timestamp" });
    expect(() => stripe.webhooks.constructEvent(body, header, SECRET, 300, undefined, T * 1000)).toThrow(
      /tolerance/,
    );
    expect(verify(headers({ "stripe-signature": stripeHeader(SECRET, T - 300) }), body).ok).toBe(true);
  });

  test("refuses a timestamp further ahead than the tolerance, which stripe-node would accept", () => {
    expect(verify(headers({ "stripe-signature": stripeHeader(SECRET, T + 301) }), body)).toMatchObject({
      code: "stale_timestamp",
    });
    expect(verify(headers({ "stripe-signature": stripeHeader(SECRET, T + 300) }), body).ok).toBe(true);
  });

  test("accepts a signature made with the second secret during a rotation", () => {
    const rotating = createVerifier(
      { scheme: "stripe", secrets: [OTHER, SECRET], toleranceMs: TOLERANCE_MS },
      clock,
    );
    expect(rotating(headers({ "stripe-signature": stripeHeader(SECRET) }), body).ok).toBe(true);
  });

  test("for random binary bodies, sign-then-verify passes and a one-byte flip fails", () => {
    assertSignThenFlip(verify, (raw) => headers({ "stripe-signature": `t=${T},v1=${v1(SECRET, T, raw)}` }));
  });
});
