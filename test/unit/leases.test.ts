import { describe, expect, test } from "vitest";
import { createLeases, isPast, rewound } from "../../src/deliver/leases.js";
import type { DueEvent } from "../../src/model.js";

const event = (route: string, seq: number, nextAttemptAt: number): DueEvent => ({
  seq,
  id: `e${seq}`,
  route,
  receivedAt: nextAttemptAt,
  method: "POST",
  path: "/",
  query: "",
  headers: [],
  body: Buffer.alloc(0),
  size: 0,
  attempts: 0,
  scheduleBase: 0,
  scheduleStart: nextAttemptAt,
  orderKey: null,
  nextAttemptAt,
});

describe("claim cursor arithmetic", () => {
  test("claim order is next_attempt_at, then seq", () => {
    const c = { at: 100, seq: 5 };
    expect(isPast(101, 1, c)).toBe(true);
    expect(isPast(100, 6, c)).toBe(true);
    expect(isPast(100, 5, c)).toBe(false);
    expect(isPast(100, 4, c)).toBe(false);
    expect(isPast(99, 9, c)).toBe(false);
  });

  test("rewinding moves the cursor just behind a key that fell behind it, never forward", () => {
    const c = { at: 100, seq: 5 };
    expect(rewound(c, 100, 3)).toEqual({ at: 100, seq: 2 });
    expect(rewound(c, 100, 5)).toEqual({ at: 100, seq: 4 });
    expect(rewound(c, 50, 9)).toEqual({ at: 50, seq: 8 });
    expect(rewound(c, 100, 6)).toBe(c);
    expect(rewound(c, 200, 1)).toBe(c);
    expect(rewound(null, 1, 1)).toBeNull();
  });
});

describe("leases", () => {
  test("a claim past the cursor skips only the route's leases it could meet", () => {
    const leases = createLeases();
    leases.add(event("a", 1, 100));
    leases.add(event("a", 2, 100));
    leases.add(event("a", 7, 300));
    leases.add(event("b", 3, 500));
    expect(leases.past("a", null)).toEqual([1, 2, 7]);
    expect(leases.past("a", { at: 100, seq: 1 })).toEqual([2, 7]);
    expect(leases.past("a", { at: 300, seq: 7 })).toEqual([]);
    expect(leases.past("b", { at: 100, seq: 9 })).toEqual([3]);
    expect(leases.delete(2)).toBe(true);
    expect(leases.delete(2)).toBe(false);
    expect(leases.has(1)).toBe(true);
    expect(leases.seqs()).toEqual([1, 7, 3]);
  });
});
