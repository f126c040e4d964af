import { createHmac } from "node:crypto";
import Database from "better-sqlite3";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { getJson, startHookbuffer, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { type Recorder, startRecorder } from "../helpers/recorder.js";

// Every string here is a credential or private data that must never appear in a log line.
const SECRET = {
  lineOld: "sekret-line-channel-old",
  lineNew: "sekret-line-channel-new",
  hmac: "sekret-generic-hmac",
  admin: "sekret-admin-token-1234567890",
  bearer: "sekret-upstream-bearer",
  cookie: "sid=sekret-cookie-value",
  alertPath: "sekret-alert-path-T0B0",
  body: "sekret-card-4242424242424242",
};
const lineSig = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest("base64");

let hb: TestHookbuffer;
let up: Recorder;
let alerts: Recorder;
beforeAll(async () => {
  up = await startRecorder();
  alerts = await startRecorder();
  // The alert receiver refuses (400 is not retried), so the alerter logs at once.
  alerts.reply(() => ({ status: 400 }));
  up.reply(() => ({ status: 500, body: `upstream echo ${SECRET.body}` }));
  hb = await startHookbuffer({
    env: { LINE_OLD: SECRET.lineOld, LINE_NEW: SECRET.lineNew, HMAC: SECRET.hmac, ADMIN: SECRET.admin },
    yaml: `upstream: ${up.url}
admin:
  token: \${ADMIN}
delivery:
  retry: {schedule: [0s, 100ms, 100ms]}
  breaker: {failures: 2, cooldown: 10m}
alerts:
  - url: ${alerts.url}/hooks/${SECRET.alertPath}
    events: [breaker_open, dead]
routes:
  - name: line
    path: /line
    verify: {scheme: line, secrets: ["\${LINE_OLD}", "\${LINE_NEW}"]}
  - name: signed
    path: /signed
    verify: {scheme: hmac, secret: "\${HMAC}", header: X-Signature}
`,
  });
});
afterAll(async () => {
  await hb?.stop();
  await up?.close();
  await alerts?.close();
});

const sensitiveHeaders = (body: string) => ({
  authorization: `Bearer ${SECRET.bearer}`,
  cookie: SECRET.cookie,
  "x-line-signature": lineSig(SECRET.lineNew, body),
  "x-signature": createHmac("sha256", SECRET.hmac).update(body).digest("hex"),
});

function assertNoSecretsIn(logs: string[]) {
  const text = logs.join("\n");
  const headersSent = sensitiveHeaders(JSON.stringify({ card: SECRET.body }));
  const values = {
    ...SECRET,
    lineSignature: headersSent["x-line-signature"],
    hmacSignature: headersSent["x-signature"],
  };
  for (const [what, value] of Object.entries(values)) {
    expect(text.includes(value), `${what} appears in the logs:\n${text}`).toBe(false);
  }
}

describe("logs under failure", () => {
  test("bad signatures, upstream errors, breaker and alert failures, storage errors and admin 401s log no secrets", async () => {
    const body = JSON.stringify({ card: SECRET.body });
    const headers = sensitiveHeaders(body);

    // Rejected: wrong secret, and a signature for another body.
    const bad = await request(`${hb.ingestUrl}/line/cb`, {
      method: "POST",
      body,
      headers: { ...headers, "x-line-signature": lineSig("wrong", body) },
    });
    expect(bad.statusCode).toBe(401);
    await bad.body.dump();

    // Accepted, then the upstream fails until the breaker opens and the event goes dead.
    for (const path of ["/line/cb", "/signed/cb"]) {
      const res = await request(`${hb.ingestUrl}${path}`, { method: "POST", body, headers });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    await waitFor(() => hb.logs.some((l) => l.includes("circuit breaker opened")), 5_000, "breaker log");
    await waitFor(() => hb.logs.some((l) => l.includes("alert not delivered")), 5_000, "alert log");

    // Storage error: a trigger makes every insert fail, as a broken disk would.
    const side = new Database(hb.dbPath);
    side.exec(
      "CREATE TRIGGER fail_insert BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END;",
    );
    try {
      const res = await request(`${hb.ingestUrl}/line/cb`, { method: "POST", body, headers });
      expect(res.statusCode).toBe(503);
      await res.body.dump();
    } finally {
      side.exec("DROP TRIGGER fail_insert");
      side.close();
    }
    await waitFor(() => hb.logs.some((l) => l.includes("could not store webhook")), 2_000, "storage log");

    // Admin with a wrong token, then the right one.
    const wrong = await request(`${hb.adminUrl}/stats`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.statusCode).toBe(401);
    await wrong.body.dump();
    const stats = await getJson(`${hb.adminUrl}/stats`, SECRET.admin);
    expect(stats.totals.rejected).toBeGreaterThanOrEqual(1);

    expect(hb.logs.length).toBeGreaterThan(3);
    assertNoSecretsIn(hb.logs);
  });

  test("the stop sequence logs no secrets either", async () => {
    await hb.running.stop(500);
    assertNoSecretsIn(hb.logs);
  });
});
