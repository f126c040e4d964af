import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Clock } from "../../src/clock.js";
import type { VerifyConfig } from "../../src/config/types.js";
import { createVerifier } from "../../src/verify/index.js";
import { flip, headers } from "../helpers/verify.js";

const clock: Clock = { now: () => 1_700_000_000_000 };

const hmac = (overrides: Partial<VerifyConfig>) =>
  createVerifier(
    { scheme: "hmac", secrets: ["Jefe"], toleranceMs: 0, header: "X-Signature", ...overrides },
    clock,
  );

// RFC 2202 / RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
const DATA = Buffer.from("what do ya want for nothing?");
const RFC = {
  sha1: "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
  sha256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  sha512:
    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
} as const;

describe("hmac", () => {
  test("accepts the RFC test vectors for every algorithm, in hex and base64", () => {
    for (const algorithm of ["sha1", "sha256", "sha512"] as const) {
      const hex = RFC[algorithm];
      expect(hmac({ algorithm })(headers({ "x-signature": hex }), DATA)).toEqual({ ok: true });
      const base64 = Buffer.from(hex, "hex").toString("base64");
      expect(hmac({ algorithm, encoding: "base64" })(headers({ "x-signature": base64 }), DATA)).toEqual({
        ok: true,
      });
    }
  });

  test("defaults to hex sha256 without prefix, and honours a prefix", () => {
    expect(hmac({})(headers({ "x-signature": RFC.sha256 }), DATA).ok).toBe(true);
    const prefixed = hmac({ prefix: "sha256=" });
    expect(prefixed(headers({ "x-signature": `sha256=${RFC.sha256}` }), DATA).ok).toBe(true);
    expect(prefixed(headers({ "x-signature": RFC.sha256 }), DATA)).toMatchObject({
      code: "malformed_signature",
    });
  });

  test("refuses a tampered body, a wrong secret, a missing header and a wrong-size digest", () => {
    const verify = hmac({});
    expect(
      verify(headers({ "x-signature": RFC.sha256 }), Buffer.from("what do ya want for something?")),
    ).toMatchObject({
      code: "bad_signature",
    });
    const wrong = createHmac("sha256", "jefe").update(DATA).digest("hex");
    expect(verify(headers({ "x-signature": wrong }), DATA)).toMatchObject({ code: "bad_signature" });
    expect(verify(headers({}), DATA)).toMatchObject({ ok: false, code: "missing_signature" });
    expect(verify(headers({ "x-signature": RFC.sha1 }), DATA)).toMatchObject({ code: "malformed_signature" });
    expect(verify(headers({ "x-signature": `${RFC.sha256.slice(0, 62)}zz` }), DATA)).toMatchObject({
      code: "malformed_signature",
    });
  });

  test("accepts a signature made with the second secret during a rotation", () => {
    expect(hmac({ secrets: ["new", "Jefe"] })(headers({ "x-signature": RFC.sha256 }), DATA).ok).toBe(true);
  });

  test("for random binary bodies and any settings, sign-then-verify passes and a one-byte flip fails", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 2048 }),
        fc.constantFrom("sha1", "sha256", "sha512"),
        fc.constantFrom("hex", "base64"),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (raw, algorithm, encoding, at, mask) => {
          const verify = hmac({ secrets: ["s3cret"], algorithm, encoding, prefix: "v=" });
          const sig = `v=${createHmac(algorithm, "s3cret").update(raw).digest(encoding)}`;
          expect(verify(headers({ "x-signature": sig }), Buffer.from(raw)).ok).toBe(true);
          expect(verify(headers({ "x-signature": sig }), flip(raw, at, mask))).toMatchObject({
            code: "bad_signature",
          });
        },
      ),
    );
  });
});
