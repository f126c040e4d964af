import { createHmac } from "node:crypto";
import { verify as octokitVerify, sign } from "@octokit/webhooks-methods";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Clock } from "../../src/clock.js";
import { createVerifier } from "../../src/verify/index.js";
import { assertSignThenFlip, headers } from "../helpers/verify.js";

const clock: Clock = { now: () => 1_700_000_000_000 };
const SECRET = "It's a Secret to Everybody";
const OTHER = "another secret";
const verify = createVerifier({ scheme: "github", secrets: [SECRET], toleranceMs: 300_000 }, clock);

const reference = (secret: string, body: Uint8Array) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

describe("github", () => {
  const payload = "Hello, World!";
  const body = Buffer.from(payload);

  test("accepts the example from GitHub's 'Validating webhook deliveries' page", () => {
    const sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    expect(verify(headers({ "X-Hub-Signature-256": sig }), body)).toEqual({ ok: true });
  });

  test("accepts what @octokit/webhooks-methods signs, and octokit accepts what we accept", async () => {
    expect(verify(headers({ "x-hub-signature-256": await sign(SECRET, payload) }), body).ok).toBe(true);
    const ours = reference(SECRET, body);
    expect(verify(headers({ "x-hub-signature-256": ours }), body).ok).toBe(true);
    expect(await octokitVerify(SECRET, payload, ours)).toBe(true);
  });

  test("refuses a tampered body, a wrong secret and a missing header with the right code", async () => {
    const sig = await sign(SECRET, payload);
    expect(verify(headers({ "x-hub-signature-256": sig }), Buffer.from("Hello, World?"))).toMatchObject({
      code: "bad_signature",
    });
    expect(verify(headers({ "x-hub-signature-256": await sign(OTHER, payload) }), body)).toMatchObject({
      code: "bad_signature",
    });
    expect(verify(headers({}), body)).toMatchObject({ ok: false, code: "missing_signature" });
    expect(verify(headers({ "x-hub-signature-256": sig.slice(7) }), body)).toMatchObject({
      code: "malformed_signature",
    });
    expect(verify(headers({ "x-hub-signature": "sha1=0000" }), body)).toMatchObject({
      code: "missing_signature",
    });
  });

  test("accepts a signature made with the second secret during a rotation", async () => {
    const rotating = createVerifier({ scheme: "github", secrets: [OTHER, SECRET], toleranceMs: 0 }, clock);
    expect(rotating(headers({ "x-hub-signature-256": await sign(SECRET, payload) }), body).ok).toBe(true);
  });

  test("for random binary bodies, sign-then-verify passes and a one-byte flip fails", () => {
    assertSignThenFlip(verify, (raw) => headers({ "x-hub-signature-256": reference(SECRET, raw) }));
  });

  test("for random text, agrees with octokit's verify", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 512, unit: "grapheme" }),
        fc.boolean(),
        async (text, tamper) => {
          const sig = reference(SECRET, Buffer.from(text));
          const received = tamper ? `${text}!` : text;
          const ours = verify(headers({ "x-hub-signature-256": sig }), Buffer.from(received)).ok;
          expect(ours).toBe(await octokitVerify(SECRET, received, sig));
          expect(ours).toBe(!tamper);
        },
      ),
      { numRuns: 50 },
    );
  });
});
