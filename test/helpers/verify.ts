import fc from "fast-check";
import { expect } from "vitest";
import type { HeaderGetter, Verifier } from "../../src/verify/index.js";

/** A header getter over a plain object, case-insensitive as the ingest layer guarantees. */
export function headers(map: Record<string, string>): HeaderGetter {
  const lower = new Map(Object.entries(map).map(([k, v]) => [k.toLowerCase(), v]));
  return (name) => lower.get(name.toLowerCase());
}

/** A copy of `body` with one byte changed (XOR `mask`, never 0), for tamper properties. */
export function flip(body: Uint8Array, at: number, mask: number): Buffer {
  const copy = Buffer.from(body);
  const i = at % copy.length;
  copy.writeUInt8(copy.readUInt8(i) ^ mask, i);
  return copy;
}

/**
 * The tamper property every scheme must hold: for random binary bodies, the headers `sign` makes
 * for a body verify it, and the same body with one byte flipped is a bad_signature.
 */
export function assertSignThenFlip(verify: Verifier, sign: (body: Uint8Array) => HeaderGetter): void {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 2048 }),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (raw, at, mask) => {
        const signed = sign(raw);
        expect(verify(signed, Buffer.from(raw)).ok).toBe(true);
        expect(verify(signed, flip(raw, at, mask))).toMatchObject({ code: "bad_signature" });
      },
    ),
  );
}
