import { createHmac } from "node:crypto";
import { describe, expect, test } from "vitest";
import type { Clock } from "../../src/clock.js";
import { createVerifier } from "../../src/verify/index.js";
import { assertSignThenFlip, headers } from "../helpers/verify.js";

/** Our own reference from Slack's docs: "v0=" + hex HMAC-SHA256 of `v0:${ts}:${body}`. */
const reference = (secret: string, ts: string, body: Uint8Array) =>
  `v0=${createHmac("sha256", secret).update(`v0:${ts}:`).update(body).digest("hex")}`;

// The worked example on api.slack.com/authentication/verifying-requests-from-slack.
const DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const DOC_TS = "1531420618";
const DOC_BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const DOC_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

const NOW_S = Number(DOC_TS) + 60;
const clock: Clock = { now: () => NOW_S * 1000 };
const OTHER = "another-slack-signing-secret";
const verify = createVerifier({ scheme: "slack", secrets: [DOC_SECRET], toleranceMs: 300_000 }, clock);
const signed = (sig: string, ts = DOC_TS) =>
  headers({ "X-Slack-Signature": sig, "X-Slack-Request-Timestamp": ts });

describe("slack", () => {
  const body = Buffer.from(DOC_BODY);

  test("accepts Slack's documented example, which our reference also reproduces", () => {
    expect(reference(DOC_SECRET, DOC_TS, body)).toBe(DOC_SIG);
    expect(verify(signed(DOC_SIG), body)).toEqual({ ok: true });
  });

  test("refuses a tampered body, a wrong secret and missing headers with the right code", () => {
    expect(verify(signed(DOC_SIG), Buffer.from(DOC_BODY.replace("foobar", "foobaz")))).toMatchObject({
      code: "bad_signature",
    });
    expect(verify(signed(reference(OTHER, DOC_TS, body)), body)).toMatchObject({ code: "bad_signature" });
    expect(verify(headers({ "x-slack-request-timestamp": DOC_TS }), body)).toMatchObject({
      code: "missing_signature",
    });
    expect(verify(headers({ "x-slack-signature": DOC_SIG }), body)).toMatchObject({
      code: "missing_signature",
    });
    expect(verify(signed(DOC_SIG.replace("v0=", "v1=")), body)).toMatchObject({
      code: "malformed_signature",
    });
    expect(verify(signed(DOC_SIG, "yesterday"), body)).toMatchObject({ code: "malformed_signature" });
  });

  test("the timestamp is signed: moving it inside the window breaks the signature", () => {
    expect(verify(signed(DOC_SIG, String(Number(DOC_TS) + 1)), body)).toMatchObject({
      code: "bad_signature",
    });
  });

  test("refuses timestamps more than five minutes old or ahead", () => {
    const old = String(NOW_S - 301);
    const ahead = String(NOW_S + 301);
    expect(verify(signed(reference(DOC_SECRET, old, body), old), body)).toMatchObject({
      code: "stale_timestamp",
    });
    expect(verify(signed(reference(DOC_SECRET, ahead, body), ahead), body)).toMatchObject({
      code: "stale_timestamp",
    });
    const edge = String(NOW_S + 300);
    expect(verify(signed(reference(DOC_SECRET, edge, body), edge), body).ok).toBe(true);
  });

  test("accepts a signature made with the second secret during a rotation", () => {
    const rotating = createVerifier(
      { scheme: "slack", secrets: [OTHER, DOC_SECRET], toleranceMs: 300_000 },
      clock,
    );
    expect(rotating(signed(DOC_SIG), body).ok).toBe(true);
  });

  test("for random binary bodies, sign-then-verify passes and a one-byte flip fails", () => {
    assertSignThenFlip(verify, (raw) => signed(reference(DOC_SECRET, DOC_TS, raw)));
  });
});
