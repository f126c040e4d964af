import { randomFillSync } from "node:crypto";

/** Crockford base32, as ULID specifies. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export type IdFactory = (nowMs: number) => string;

/** The 10-digit time part of a ULID. */
function encodeTime(ms: number): string {
  let time = "";
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time;
}

/**
 * Monotonic ULIDs: sortable by time, and strictly increasing within one process even when many are
 * made in the same millisecond (the random part is incremented), so id order is arrival order.
 * Each new millisecond takes its randomness from a pool filled 64 milliseconds at a time: one
 * call into the CSPRNG per id was a visible share of an ingest batch (docs/performance.md).
 */
export function createIdFactory(): IdFactory {
  let lastTime = -1;
  let timePart = "";
  const random = new Uint8Array(16); // 16 base32 digits of randomness, one per byte (5 bits used)
  const pool = new Uint8Array(16 * 64);
  let used = pool.length;
  return function nextId(nowMs: number): string {
    if (nowMs <= lastTime) {
      incrementRandom(random);
    } else {
      lastTime = nowMs;
      timePart = encodeTime(nowMs);
      if (used === pool.length) {
        randomFillSync(pool);
        used = 0;
      }
      for (let i = 0; i < 16; i++) random[i] = (pool[used + i] ?? 0) & 31;
      used += 16;
    }
    let rand = "";
    for (let i = 0; i < 16; i++) rand += ALPHABET[random[i] ?? 0];
    return timePart + rand;
  };
}

function incrementRandom(digits: Uint8Array): void {
  for (let i = digits.length - 1; i >= 0; i--) {
    const next = (digits[i] ?? 0) + 1;
    if (next < 32) {
      digits[i] = next;
      return;
    }
    digits[i] = 0;
  }
}
