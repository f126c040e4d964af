import { describe, expect, test } from "vitest";
import { createIdFactory } from "../../src/ids.js";

describe("ids", () => {
  test("are 26-character ULIDs that sort in creation order, even within one millisecond", () => {
    const next = createIdFactory();
    const ids = [next(1_000), next(1_000), next(1_000), next(999), next(2_000)];
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("stay valid, unique and sorted over many milliseconds, past one fill of the randomness", () => {
    const next = createIdFactory();
    const ids: string[] = [];
    for (let ms = 1_000; ms < 1_300; ms++) for (let k = 0; k < 3; k++) ids.push(next(ms));
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // Fresh randomness per millisecond: the random parts of two milliseconds' first ids differ.
    expect(new Set(ids.filter((_, i) => i % 3 === 0).map((id) => id.slice(10))).size).toBe(300);
  });

  test("encode the timestamp in the first ten characters", () => {
    const next = createIdFactory();
    expect(next(0).slice(0, 10)).toBe("0000000000");
    expect(next(1_700_000_000_000).slice(0, 10)).toBe("01HF7YAT00");
  });
});
