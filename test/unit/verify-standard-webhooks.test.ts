import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, test } from "vitest";
import { type Clock, systemClock } from "../../src/clock.js";
import { createVerifier } from "../../src/verify/index.js";
import { assertSignThenFlip, headers } from "../helpers/verify.js";

// The Standard Webhooks specification's published test vector.
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const T = 1614265330;
const PAYLOAD = '{"test": 2432232314}';
const SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
const OTHER = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

const clock: Clock = { now: () => T * 1000 };
const verify = createVerifier(
  { scheme: "standard-webhooks", secrets: [SECRET], toleranceMs: 300_000 },
  clock,
);

/** Our own reference from the spec: base64 HMAC-SHA256, keyed with the base64-decoded secret, of `${id}.${ts}.${body}`. */
const reference = (secret: string, id: string, ts: number, body: Uint8Array) =>
  `v1,${createHmac("sha256", Buffer.from(secret.replace(/^whsec_/, ""), "base64"))
    .update(`${id}.${ts}.`)
    .update(body)
    .digest("base64")}`;
const signed = (signature: string, ts = T, id = ID) =>
  headers({ "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signature });

describe("standard-webhooks", () => {
  const body = Buffer.from(PAYLOAD);

  test("accepts the specification's test vector", () => {
    expect(verify(signed(SIGNATURE), body)).toEqual({ ok: true });
    expect(reference(SECRET, ID, T, body)).toBe(SIGNATURE);
  });

  test("accepts what the standardwebhooks library signs", () => {
    const signature = new Webhook(OTHER).sign("msg_2", new Date(T * 1000), PAYLOAD);
    const ours = createVerifier(
      { scheme: "standard-webhooks", secrets: [OTHER], toleranceMs: 300_000 },
      clock,
    );
    expect(ours(signed(signature, T, "msg_2"), body).ok).toBe(true);
  });

  test("the library's verify accepts what we accept", () => {
    // The library reads the real clock, so sign at the real now and verify with the system clock.
    const now = Math.floor(Date.now() / 1000);
    const signature = reference(SECRET, "msg_3", now, body);
    const live = createVerifier(
      { scheme: "standard-webhooks", secrets: [SECRET], toleranceMs: 300_000 },
      systemClock,
    );
    expect(live(signed(signature, now, "msg_3"), body).ok).toBe(true);
    const libraryHeaders = {
      "webhook-id": "msg_3",
      "webhook-timestamp": String(now),
      "webhook-signature": signature,
    };
    expect(new Webhook(SECRET).verify(PAYLOAD, libraryHeaders)).toEqual({ test: 2432232314 });
  });

  test("accepts a key given without the whsec_ prefix", () => {
    const bare = createVerifier(
      { scheme: "standard-webhooks", secrets: [SECRET.slice(6)], toleranceMs: 300_000 },
      clock,
    );
    expect(bare(signed(SIGNATURE), body).ok).toBe(true);
  });

  test("refuses a tampered body, a wrong secret and missing headers with the right code", () => {
    expect(verify(signed(SIGNATURE), Buffer.from('{"test": 2432232315}'))).toMatchObject({
      code: "bad_signature",
    });
    expect(verify(signed(reference(OTHER, ID, T, body)), body)).toMatchObject({ code: "bad_signature" });
    expect(verify(signed(SIGNATURE, T, "msg_other"), body)).toMatchObject({ code: "bad_signature" });
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      const all: Record<string, string> = {
        "webhook-id": ID,
        "webhook-timestamp": String(T),
        "webhook-signature": SIGNATURE,
      };
      delete all[name];
      expect(verify(headers(all), body)).toMatchObject({ ok: false, code: "missing_signature" });
    }
    expect(verify(signed(`v1a,${SIGNATURE.slice(3)}`), body)).toMatchObject({ code: "malformed_signature" });
  });

  test("reads Svix's svix-id, svix-timestamp and svix-signature, each winning over its webhook- twin", () => {
    const svix = { "svix-id": ID, "svix-timestamp": String(T), "svix-signature": SIGNATURE };
    expect(verify(headers(svix), body)).toEqual({ ok: true });
    // As in the svix library: the svix- value is the one checked when both are present.
    expect(verify(headers({ ...svix, "webhook-signature": "v1,AAAA" }), body)).toEqual({ ok: true });
    expect(
      verify(headers({ ...svix, "svix-signature": "v1,AAAA", "webhook-signature": SIGNATURE }), body),
    ).toMatchObject({
      code: "malformed_signature",
    });
    expect(verify(headers({ "svix-id": ID, "svix-timestamp": String(T) }), body)).toMatchObject({
      code: "missing_signature",
      message: "missing webhook-signature (or svix-signature) header",
    });
    expect(verify(headers({ ...svix, "svix-timestamp": String(T - 301) }), body)).toMatchObject({
      code: "stale_timestamp",
      message: expect.stringContaining("svix-timestamp"),
    });
  });

  test("refuses timestamps more than the tolerance old or ahead", () => {
    for (const ts of [T - 301, T + 301]) {
      expect(
        verify(
          headers({
            "webhook-id": ID,
            "webhook-timestamp": String(ts),
            "webhook-signature": reference(SECRET, ID, ts, body),
          }),
          body,
        ),
      ).toMatchObject({
        code: "stale_timestamp",
      });
    }
  });

  test("accepts any matching entry: a second secret, or a second v1 in the header", () => {
    const rotating = createVerifier(
      { scheme: "standard-webhooks", secrets: [OTHER, SECRET], toleranceMs: 300_000 },
      clock,
    );
    expect(rotating(signed(SIGNATURE), body).ok).toBe(true);
    const twoEntries = `v1a,AAAA ${reference(OTHER, ID, T, body)} ${SIGNATURE}`;
    expect(verify(signed(twoEntries), body).ok).toBe(true);
  });

  test("for random binary bodies, sign-then-verify passes and a one-byte flip fails", () => {
    assertSignThenFlip(verify, (raw) => signed(reference(SECRET, ID, T, raw)));
  });
});
