/** A header getter over a plain object, case-insensitive as the ingest layer guarantees. */
export function headers(map: Record<string, string>): (name: string) => string | undefined {
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
