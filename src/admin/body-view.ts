/** Bodies as an operator reads them: pretty JSON, text, or hex for binary, never unbounded. */

/** Longest body shown inline; the exact bytes stay available as base64. */
const SHOWN_BYTES = 256 * 1024;

export interface BodyView {
  /** Bytes stored (for a response: bytes the upstream sent, of which `content` shows a prefix). */
  size: number;
  encoding: "json" | "text" | "hex";
  content: string;
  /** True when `content` shows only the first bytes. */
  truncated: boolean;
}

/** Control bytes other than tab, newline and carriage return mark a body as binary. */
function hasControlBytes(bytes: Buffer): boolean {
  for (const b of bytes) if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return true;
  return false;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** `size` is the whole body's length when `bytes` holds only its first part. */
export function bodyView(bytes: Buffer, size: number): BodyView {
  const shown = bytes.subarray(0, SHOWN_BYTES);
  const truncated = shown.length < size;
  let text: string | null;
  try {
    text = utf8.decode(shown);
  } catch {
    text = null;
  }
  if (text === null || hasControlBytes(shown)) {
    return { size, encoding: "hex", content: shown.toString("hex"), truncated };
  }
  if (!truncated) {
    try {
      return { size, encoding: "json", content: JSON.stringify(JSON.parse(text), null, 2), truncated };
    } catch {
      // Not JSON: shown as text.
    }
  }
  return { size, encoding: "text", content: text, truncated };
}
