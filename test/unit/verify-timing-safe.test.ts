import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { timingSafeEqual } from "../../src/verify/index.js";

describe("timingSafeEqual", () => {
  test("compares strings and bytes by content", () => {
    expect(timingSafeEqual("token", "token")).toBe(true);
    expect(timingSafeEqual("token", "tokeN")).toBe(false);
    expect(timingSafeEqual(Buffer.from([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(timingSafeEqual("", "")).toBe(true);
  });

  test("returns false instead of throwing when the lengths differ", () => {
    expect(timingSafeEqual("token", "token2")).toBe(false);
    expect(timingSafeEqual("", "x")).toBe(false);
    expect(timingSafeEqual(Buffer.alloc(32), Buffer.alloc(31))).toBe(false);
  });

  test("agrees with ordinary equality on random inputs", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        expect(timingSafeEqual(a, b)).toBe(Buffer.from(a).equals(b));
        expect(timingSafeEqual(a, Uint8Array.from(a))).toBe(true);
      }),
    );
  });
});
