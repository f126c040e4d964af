import { timingSafeEqual as nodeTimingSafeEqual } from "node:crypto";

/**
 * Constant-time equality of two byte strings that may differ in length. `crypto.timingSafeEqual`
 * throws on unequal lengths, so on a mismatch we still run one full comparison (of `a` with itself)
 * and only then say no: the time depends on the lengths, never on where the contents differ. Lengths
 * are public here (a digest's length is fixed by its algorithm).
 */
export function timingSafeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = typeof a === "string" ? Buffer.from(a) : a;
  const y = typeof b === "string" ? Buffer.from(b) : b;
  const sameLength = x.length === y.length;
  const sameBytes = nodeTimingSafeEqual(x, sameLength ? y : x);
  return sameLength && sameBytes;
}
