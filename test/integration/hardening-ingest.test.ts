import { createHmac } from "node:crypto";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { getJson, startHookbuffer, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { rawRequest, statusOf } from "../helpers/raw.js";
import { type Recorder, startRecorder } from "../helpers/recorder.js";

const SECRET = "gh-callback-secret-0123456789";
const sign = (body: string) => `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;

let hb: TestHookbuffer;
let up: Recorder;
let port: number;
beforeAll(async () => {
  up = await startRecorder();
  hb = await startHookbuffer({
    env: { GH: SECRET },
    yaml: `upstream: ${up.url}
listen:
  max_header_size: 64kb
  max_headers: 200
routes:
  - name: callback
    path: /callback
    verify: {scheme: github, secret: "\${GH}"}
  - name: open
    path: /
`,
  });
  port = hb.running.ingest.port;
});
afterAll(async () => {
  await hb?.stop();
  await up?.close();
});

const received = async () => (await getJson(`${hb.adminUrl}/stats`)).totals.received;
const bodyOf = (response: string) => response.slice(response.indexOf("\r\n\r\n") + 4);
const post = (target: string, extra: string[] = [], body = '{"x":1}') =>
  rawRequest(
    port,
    [
      `POST ${target} HTTP/1.1`,
      "Host: hooks.example",
      "Content-Type: application/json",
      `Content-Length: ${Buffer.byteLength(body)}`,
      ...extra,
    ],
    body,
  );

describe("route verification cannot be bypassed through the raw path", () => {
  test.each([
    "/%63allback",
    "/%63%61llback",
    "/x/../callback",
    "/./callback",
    "/%2e%2e/callback",
    "/callback/%2E%2E/x",
    "/x%2F..%2Fcallback",
    "/x\\..\\callback",
    "//callback",
  ])("unsigned POST %s is refused with a JSON 400 and goes nowhere", async (target) => {
    const before = await received();
    const res = await post(target);
    expect(statusOf(res)).toBe(400);
    expect(res).toMatch(/content-type: application\/json/i);
    // A backslash is already refused by the HTTP adapter, with the same JSON shape.
    expect(JSON.parse(bodyOf(res))).toEqual({
      error: { code: expect.stringMatching(/^(bad_path|bad_request)$/), message: expect.any(String) },
    });
    expect(await received()).toBe(before);
    expect(up.requests.filter((r) => r.url.toLowerCase().includes("callback"))).toEqual([]);
  });

  test("the verified route still refuses unsigned and accepts signed; other paths reach the open route", async () => {
    expect(statusOf(await post("/callback"))).toBe(401);
    expect(statusOf(await post("/callback", [`X-Hub-Signature-256: ${sign('{"x":1}')}`]))).toBe(200);
    // Encoded reserved characters other than a separator are a different path, not a disguise.
    expect(statusOf(await post("/other/a%20b%3Bc"))).toBe(200);
    await waitFor(() => up.requests.some((r) => r.url === "/other/a%20b%3Bc"), 10_000, "open delivery");
  });
});

describe("header names hookbuffer owns", () => {
  test("X_Hookbuffer_* spelt with underscores never reaches the upstream", async () => {
    const res = await request(`${hb.ingestUrl}/underscores`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        X_Hookbuffer_Verified: "line",
        x_hookbuffer_event_id: "forged-id",
        "X-Hookbuffer_Attempt": "99",
        X_Other_Header: "kept",
      },
      body: "{}",
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const delivered = await waitFor(() => up.requests.find((r) => r.url === "/underscores"), 10_000);
    const names = delivered.headers.map(([name]) => name.toLowerCase().replaceAll("_", "-"));
    // The event id hookbuffer adds itself may be there; no forged value and no underscore spelling.
    expect(delivered.headers.filter(([n]) => n.includes("_") && /hookbuffer/i.test(n))).toEqual([]);
    expect(delivered.headers.map(([, v]) => v)).not.toContain("forged-id");
    expect(names).not.toContain("x-hookbuffer-verified");
    expect(names).toContain("x-other-header");
  });
});

describe("header count", () => {
  test("a request with 1,500 headers gets 431 (JSON) instead of losing the ones past ~1,000", async () => {
    const before = await received();
    const many = Array.from({ length: 1500 }, (_, i) => `X-H${i}: v`);
    const res = await post("/many", many);
    expect(statusOf(res)).toBe(431);
    expect(JSON.parse(bodyOf(res))).toEqual({
      error: { code: "too_many_headers", message: expect.stringContaining("200") },
    });
    expect(await received()).toBe(before);
  });

  test("a request at the limit is stored with every header", async () => {
    const some = Array.from({ length: 190 }, (_, i) => `X-H${i}: v${i}`);
    expect(statusOf(await post("/some", some))).toBe(200);
    const delivered = await waitFor(() => up.requests.find((r) => r.url === "/some"), 10_000);
    expect(delivered.headers.filter(([n]) => /^X-H\d+$/.test(n))).toHaveLength(190);
  });
});

describe("Connection nominating the signature header", () => {
  test("is refused with 400 rather than verified and then stripped before replay", async () => {
    const before = await received();
    const body = '{"nominated":true}';
    const res = await post(
      "/callback",
      [`X-Hub-Signature-256: ${sign(body)}`, "Connection: keep-alive, X-Hub-Signature-256"],
      body,
    );
    expect(statusOf(res)).toBe(400);
    expect(JSON.parse(bodyOf(res)).error.code).toBe("hop_by_hop_signature");
    expect(await received()).toBe(before);
  });

  test("Connection naming other fields does not stop a signed webhook", async () => {
    const body = '{"other":true}';
    const res = await post("/callback", [`X-Hub-Signature-256: ${sign(body)}`, "Connection: X-Trace"], body);
    expect(statusOf(res)).toBe(200);
  });
});

describe("requests the HTTP layer cannot parse", () => {
  test.each([
    ["ingest", () => port],
    ["admin", () => hb.running.admin.port],
  ])("HTTP/1.0 without Host on the %s listener gets a JSON 400", async (_name, which) => {
    const res = await rawRequest(which(), ["GET /stats HTTP/1.0"]);
    expect(res).toMatch(/^HTTP\/1\.1 400 /);
    expect(res).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(bodyOf(res))).toEqual({ error: { code: "bad_request", message: expect.any(String) } });
  });
});

describe("signature refusals are logged", () => {
  test("one warn line names the route and the reason, without the secret or the signature", async () => {
    const bad = "sha256=0000000000000000000000000000000000000000000000000000000000000000";
    expect(statusOf(await post("/callback/logged", [`X-Hub-Signature-256: ${bad}`]))).toBe(401);
    const line = await waitFor(() => hb.logs.find((l) => l.includes("signature check refused a request")));
    const entry = JSON.parse(line) as Record<string, unknown>;
    expect(entry).toMatchObject({ route: "callback", code: expect.any(String), reason: expect.any(String) });
    expect(line).not.toContain(SECRET);
    expect(line).not.toContain(bad.slice(7));
  });
});
