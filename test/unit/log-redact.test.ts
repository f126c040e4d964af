import { Writable } from "node:stream";
import { describe, expect, test } from "vitest";
import { createLogger } from "../../src/log.js";

const SECRETS = {
  auth: "Bearer sekret-bearer-value",
  cookie: "session=sekret-cookie",
  lineSig: "sekretLineSignature=",
  stripeSig: "t=1,v1=sekretstripe",
  customSig: "sha256=sekretcustomhmac",
  verifySecret: "sekret-verify-secret",
  adminToken: "sekret-admin-token",
  alertUrl: "https://hooks.slack.example/services/T0/B0/sekretalertpath",
  body: '{"card":"sekret-body-4242"}',
};

function capture() {
  const lines: string[] = [];
  const log = createLogger({
    level: "trace",
    destination: new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  });
  return { log, text: () => lines.join("") };
}

describe("log redaction", () => {
  test("credentials, signatures, config secrets and bodies never reach a log line, however they are nested", () => {
    const { log, text } = capture();
    const headers = {
      authorization: SECRETS.auth,
      cookie: SECRETS.cookie,
      "x-line-signature": SECRETS.lineSig,
      "stripe-signature": SECRETS.stripeSig,
      "x-my-signature": SECRETS.customSig,
      "content-type": "application/json",
    };
    log.info({ headers }, "object headers");
    log.info({ req: { headers, body: SECRETS.body } }, "request");
    log.info({ event: { headers, body: SECRETS.body } }, "nested event");
    log.info(
      {
        headers: [
          ["Authorization", SECRETS.auth],
          ["X-Line-Signature", SECRETS.lineSig],
          ["X-My-Signature", SECRETS.customSig],
          ["Content-Type", "application/json"],
        ],
      },
      "raw header pairs",
    );
    log.info(
      {
        config: {
          admin: { host: "0.0.0.0", token: SECRETS.adminToken },
          routes: [{ name: "line", verify: { scheme: "line", secrets: [SECRETS.verifySecret] } }],
          alerts: [{ url: SECRETS.alertUrl, events: ["dead"] }],
        },
      },
      "whole config",
    );
    log.info(
      { route: { verify: { secrets: [SECRETS.verifySecret] } }, flags: { adminToken: SECRETS.adminToken } },
      "parts",
    );
    const err = Object.assign(new Error("upstream said no"), {
      statusCode: 500,
      headers: { "set-cookie": SECRETS.cookie },
      body: SECRETS.body,
    });
    log.error({ err }, "error with response attached");

    const out = text();
    for (const [what, secret] of Object.entries(SECRETS)) {
      expect(out.includes(secret), `${what} leaked:\n${out}`).toBe(false);
    }
    // Still useful: what is not sensitive stays.
    expect(out).toContain("application/json");
    expect(out).toContain("upstream said no");
    expect(out).toContain('"scheme":"line"');
  });
});
