import { randomBytes } from "node:crypto";

/** Crockford base32, as ULID specifies. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export type IdFactory = (nowMs: number) => string;

/**
 * Monotonic ULIDs: sortable by time, and strictly increasing within one process even when many are
 * made in the same millisecond (the random part is incremented), so id order is arrival order.
 */
export function createIdFactory(): IdFactory {
  let lastTime = -1;
  const random = new Uint8Array(16); // 16 base32 digits of randomness, one per byte (5 bits used)
  return function nextId(nowMs: number): string {
    if (nowMs <= lastTime) {
      incrementRandom(random);
    } else {
      lastTime = nowMs;
      const bytes = randomBytes(16);
      for (let i = 0; i < 16; i++) random[i] = (bytes[i] ?? 0) & 31;
    }
    let time = "";
    let t = lastTime;
    for (let i = 0; i < 10; i++) {
      time = ALPHABET[t % 32] + time;
      t = Math.floor(t / 32);
    }
    let rand = "";
    for (let i = 0; i < 16; i++) rand += ALPHABET[random[i] ?? 0];
    return time + rand;
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
