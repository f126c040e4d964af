/** Test certificates, generated per run so no key material is committed. */
import { generate } from "selfsigned";

export interface TestCert {
  /** PEM private key. */
  key: string;
  /** PEM certificate; also its own CA (pass as `ca` to trust it). */
  cert: string;
}

/**
 * A self-signed certificate valid for localhost and 127.0.0.1. EC P-256 keeps generation in the
 * tens of milliseconds (RSA 2048 takes several hundred).
 */
export async function generateCert(): Promise<TestCert> {
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
