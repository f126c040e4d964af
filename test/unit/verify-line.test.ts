import { createHmac } from "node:crypto";
import { validateSignature } from "@line/bot-sdk";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Clock } from "../../src/clock.js";
import { createVerifier } from "../../src/verify/index.js";
import { flip, headers } from "../helpers/verify.js";

const clock: Clock = { now: () => 1_700_000_000_000 };
const SECRET = "8c570fa6dd201bb328f1c1eac23a96d8";
const OTHER = "0123456789abcdef0123456789abcdef";
const verify = createVerifier({ scheme: "line", secrets: [SECRET], toleranceMs: 300_000 }, clock);

/** Our own reference, written from LINE's docs, independent of src/verify. */
const sign = (secret: string, body: Uint8Array) => createHmac("sha256", secret).update(body).digest("base64");

describe("line", () => {
  const body = Buffer.from('{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}');
  const signature = "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs=";

  test("accepts LINE's published example", () => {
    expect(verify(headers({ "x-line-signature": signature }), body)).toEqual({ ok: true });
  });

  test("agrees with @line/bot-sdk validateSignature on the example, both ways", () => {
    expect(validateSignature(body, SECRET, signature)).toBe(true);
    expect(verify(headers({ "x-line-signature": sign(SECRET, body) }), body).ok).toBe(true);
    expect(validateSignature(body, SECRET, sign(SECRET, body))).toBe(true);
  });

  test("refuses a tampered body, a wrong secret and a missing header with the right code", () => {
    const tampered = Buffer.from(body.toString().replace("[]", "[{}]"));
    expect(verify(headers({ "x-line-signature": signature }), tampered)).toMatchObject({
      ok: false,
      code: "bad_signature",
    });
    const wrong = sign(OTHER, body);
    expect(verify(headers({ "x-line-signature": wrong }), body)).toMatchObject({
      ok: false,
      code: "bad_signature",
    });
    expect(verify(headers({}), body)).toMatchObject({ ok: false, code: "missing_signature" });
    expect(verify(headers({ "x-line-signature": "not base64!" }), body)).toMatchObject({
      ok: false,
      code: "malformed_signature",
    });
  });

  test("accepts a signature made with the second secret during a rotation", () => {
    const rotating = createVerifier({ scheme: "line", secrets: [OTHER, SECRET], toleranceMs: 0 }, clock);
    expect(rotating(headers({ "x-line-signature": signature }), body).ok).toBe(true);
  });

  test("for random binary bodies, agrees with validateSignature and a one-byte flip fails", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 2048 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (raw, at, mask) => {
          const b = Buffer.from(raw);
          const sig = sign(SECRET, b);
          expect(verify(headers({ "x-line-signature": sig }), b).ok).toBe(true);
          expect(validateSignature(b, SECRET, sig)).toBe(true);
          const flipped = flip(b, at, mask);
          expect(verify(headers({ "x-line-signature": sig }), flipped)).toMatchObject({
            code: "bad_signature",
          });
          expect(validateSignature(flipped, SECRET, sig)).toBe(false);
        },
      ),
    );
  });
});
