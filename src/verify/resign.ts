/**
 * Re-signing a replay for schemes whose signature covers a timestamp (README "When your bot
 * verifies signatures"). The provider's SDK in the bot refuses a timestamp older than a few
 * minutes, so each attempt gets a fresh timestamp and a signature over the same raw body, made
 * with the route's first secret, in the provider's own header format. The values replaced are
 * kept as `X-Hookbuffer-Original-<name>`.
 *
 * Only a stored request whose original signature still verifies with one of the route's secrets
 * (at any age) is re-signed; anything else goes out unchanged. hookbuffer thus never signs a
 * request the provider did not sign, such as one stored before the route had `verify:`.
 */
import { createHmac, type KeyObject } from "node:crypto";
import { systemClock } from "../clock.js";
import type { VerifyConfig } from "../config/types.js";
import { createVerifier } from "./index.js";
import { hmacKeys } from "./keys.js";
import { standardWebhooksKey } from "./standard-webhooks.js";
import type { HeaderGetter } from "./types.js";

/** The headers one attempt sends, re-signed for `nowMs` when the route re-signs. */
export type Resigner = (
  headers: Array<[string, string]>,
  body: Buffer,
  nowMs: number,
) => Array<[string, string]>;

/** Prefix of the headers that keep the values a re-signature replaced. */
export const ORIGINAL_PREFIX = "X-Hookbuffer-Original-";

/** New values by lower-case header name, for one signed set of headers. */
type Sign = (seconds: string, body: Buffer, header: HeaderGetter) => Map<string, string>;

/** A tolerance no stored request exceeds: the original signature is checked whatever its age. */
const AGELESS_MS = Number.MAX_SAFE_INTEGER;

function hmac(key: KeyObject, algorithm: string, parts: Array<string | Buffer>): Buffer {
  const h = createHmac(algorithm, key);
  for (const part of parts) {
    if (typeof part === "string") h.update(part, "latin1");
    else h.update(part);
  }
  return h.digest();
}

/** Standard Webhooks header sets: Svix's and the specification's, each signed on its own. */
const SW_PREFIXES = ["svix-", "webhook-"];

/**
 * Views of the request's headers, one per set of signature headers it may carry. Each set is
 * checked and re-signed on its own, so a set the provider did not sign is never signed by us.
 */
function views(cfg: VerifyConfig, header: HeaderGetter): HeaderGetter[] {
  if (cfg.scheme !== "standard-webhooks") return [header];
  return SW_PREFIXES.map((own) => (name: string) => {
    const other = SW_PREFIXES.find((p) => p !== own && name.startsWith(p));
    return other === undefined ? header(name) : undefined;
  });
}

function signerFor(cfg: VerifyConfig, key: KeyObject): Sign | null {
  switch (cfg.scheme) {
    case "stripe":
      // Stripe's own format, as stripe-node's generateTestHeaderString writes it.
      return (t, body) =>
        new Map([["stripe-signature", `t=${t},v1=${hmac(key, "sha256", [t, ".", body]).toString("hex")}`]]);
    case "slack":
      return (ts, body) =>
        new Map([
          ["x-slack-request-timestamp", ts],
          ["x-slack-signature", `v0=${hmac(key, "sha256", ["v0:", ts, ":", body]).toString("hex")}`],
        ]);
    case "standard-webhooks":
      return (ts, body, header) => {
        const prefix = SW_PREFIXES.find((p) => header(`${p}id`)) ?? "webhook-";
        const id = header(`${prefix}id`) ?? "";
        const signature = hmac(key, "sha256", [id, ".", ts, ".", body]).toString("base64");
        return new Map([
          [`${prefix}timestamp`, ts],
          [`${prefix}signature`, `v1,${signature}`],
        ]);
      };
    case "hmac": {
      const { timestamp, header: name } = cfg;
      if (timestamp === undefined || name === undefined) return null;
      const algorithm = cfg.algorithm ?? "sha256";
      const encoding = cfg.encoding ?? "hex";
      const prefix = cfg.prefix ?? "";
      return (ts, body) => {
        const digest = hmac(key, algorithm, [timestamp.before, ts, timestamp.between, body]);
        return new Map([
          [timestamp.header, ts],
          [name, prefix + digest.toString(encoding)],
        ]);
      };
    }
    default:
      return null;
  }
}

function getter(headers: Array<[string, string]>): HeaderGetter {
  return (name) => {
    const lower = name.toLowerCase();
    for (const [k, v] of headers) if (k.toLowerCase() === lower) return v;
    return undefined;
  };
}

/**
 * The route's re-signer, or null when it does not re-sign (`resign: false`, or a scheme without
 * a signed timestamp). Keys are decoded once, here.
 */
export function createResigner(cfg: VerifyConfig): Resigner | null {
  if (cfg.resign !== true) return null;
  const decode = cfg.scheme === "standard-webhooks" ? standardWebhooksKey : undefined;
  const [first] = hmacKeys(cfg.secrets, decode);
  if (first === undefined) return null;
  const sign = signerFor(cfg, first);
  if (sign === null) return null;
  const original = createVerifier({ ...cfg, toleranceMs: AGELESS_MS }, systemClock);

  return function resign(headers, body, nowMs) {
    const seconds = String(Math.floor(nowMs / 1000));
    const fresh = new Map<string, string>();
    for (const view of views(cfg, getter(headers))) {
      if (!original(view, body).ok) continue;
      for (const [name, value] of sign(seconds, body, view)) fresh.set(name, value);
    }
    if (fresh.size === 0) return headers;
    const out: Array<[string, string]> = [];
    const originals: Array<[string, string]> = [];
    const written = new Set<string>();
    for (const [name, value] of headers) {
      const lower = name.toLowerCase();
      const replacement = fresh.get(lower);
      if (replacement === undefined) {
        out.push([name, value]);
        continue;
      }
      // In place and in the provider's spelling; a repeated header is sent once, the fresh value.
      if (!written.has(lower)) out.push([name, replacement]);
      written.add(lower);
      originals.push([ORIGINAL_PREFIX + name, value]);
    }
    return [...out, ...originals];
  };
}

/** The re-signer of every route that re-signs, by route name. */
export function createResigners(
  routes: ReadonlyArray<{ name: string; verify?: VerifyConfig | null }>,
): Map<string, Resigner> {
  const resigners = new Map<string, Resigner>();
  for (const route of routes) {
    const resigner = route.verify ? createResigner(route.verify) : null;
    if (resigner) resigners.set(route.name, resigner);
  }
  return resigners;
}
