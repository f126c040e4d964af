import { createSecretKey, type KeyObject } from "node:crypto";

/**
 * One HMAC key per configured secret (several during a rotation), made once at startup so the hot
 * path does not re-encode the secret on every request. `decode` turns the configured text into key
 * bytes (UTF-8 unless the scheme says otherwise). Errors name the position, never the secret.
 */
export function hmacKeys(
  secrets: readonly string[],
  decode: (secret: string) => Buffer | null = (secret) => Buffer.from(secret, "utf8"),
): KeyObject[] {
  if (secrets.length === 0) throw new Error("verify: at least one secret is required");
  return secrets.map((secret, i) => {
    const bytes = decode(secret);
    if (bytes === null) throw new Error(`verify: secrets[${i}] is not in the expected format`);
    // An empty key is one anybody can sign with.
    if (bytes.length === 0) throw new Error(`verify: secrets[${i}] is empty`);
    return createSecretKey(bytes);
  });
}
