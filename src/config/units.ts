/**
 * Human units for the config file: durations like `30s` or `1h30m` become milliseconds, sizes like
 * `1mb` become bytes. Pure functions; they throw a RangeError whose message can be shown as is.
 */

const DURATION_UNITS_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;

// Binary multiples throughout: a config that says `1mb` means the MiB the body limit is counted in.
const SIZE_UNITS_BYTES = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
} as const;

const PLAIN_NUMBER = /^\d+(?:\.\d+)?$/;
const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)(?![a-z])/y;
const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/;

function checkNumber(value: number, what: string): number {
  if (!Number.isFinite(value)) throw new RangeError(`${what} must be a finite number, got ${value}`);
  if (value < 0) throw new RangeError(`${what} must not be negative, got ${value}`);
  const rounded = Math.round(value);
  if (rounded > Number.MAX_SAFE_INTEGER) throw new RangeError(`${what} is too large: ${value}`);
  return rounded;
}

/**
 * Parses `500ms`, `30s`, `5m`, `24h`, `7d`, `2w`, combinations such as `1h30m` or `1h 30m`, and
 * decimals such as `1.5h`. A bare number (or numeric string) is milliseconds. Case-insensitive.
 */
export function parseDuration(text: string | number): number {
  if (typeof text === "number") return checkNumber(text, "duration");
  const input = text.trim().toLowerCase();
  if (input.startsWith("-")) throw new RangeError(`duration must not be negative, got "${text}"`);
  if (PLAIN_NUMBER.test(input)) return checkNumber(Number(input), "duration");
  let total = 0;
  let position = 0;
  DURATION_PART.lastIndex = 0;
  while (position < input.length) {
    DURATION_PART.lastIndex = position;
    const match = DURATION_PART.exec(input);
    if (match === null) break;
    const unit = match[2] as keyof typeof DURATION_UNITS_MS;
    total += Number(match[1]) * DURATION_UNITS_MS[unit];
    position = DURATION_PART.lastIndex;
    while (input[position] === " ") position++;
  }
  if (input.length === 0 || position < input.length) {
    throw new RangeError(
      `invalid duration "${text}": expected a number with a unit (ms, s, m, h, d, w), e.g. 30s or 1h30m`,
    );
  }
  return checkNumber(total, "duration");
}

/**
 * Parses `100b`, `512kb`, `1mb` (= 1 MiB), `1mib`, `1gb`, with or without a space, any case. A bare
 * number (or numeric string) is bytes.
 */
export function parseSize(text: string | number): number {
  if (typeof text === "number") return checkNumber(text, "size");
  const input = text.trim().toLowerCase();
  if (input.startsWith("-")) throw new RangeError(`size must not be negative, got "${text}"`);
  if (PLAIN_NUMBER.test(input)) return checkNumber(Number(input), "size");
  const match = SIZE.exec(input);
  const unit = match?.[2];
  if (match === null || unit === undefined || !Object.hasOwn(SIZE_UNITS_BYTES, unit)) {
    throw new RangeError(`invalid size "${text}": expected a number with a unit (b, kb, mb, gb), e.g. 1mb`);
  }
  return checkNumber(Number(match[1]) * SIZE_UNITS_BYTES[unit as keyof typeof SIZE_UNITS_BYTES], "size");
}

const FORMAT_STEPS: Array<[unit: string, ms: number]> = [
  ["d", DURATION_UNITS_MS.d],
  ["h", DURATION_UNITS_MS.h],
  ["m", DURATION_UNITS_MS.m],
  ["s", DURATION_UNITS_MS.s],
  ["ms", 1],
];

/** Formats milliseconds the way the config file writes them, e.g. 5400000 -> `1h30m`, 0 -> `0s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return `${ms}ms`;
  let rest = Math.round(ms);
  let out = "";
  for (const [unit, size] of FORMAT_STEPS) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out === "" ? "0s" : out;
}
