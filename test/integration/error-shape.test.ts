import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startHookbuffer, type TestHookbuffer } from "../helpers/hookbuffer.js";
import { rawRequest } from "../helpers/raw.js";

// Every refusal of both listeners, whoever produces it (handler, middleware, passthrough, the HTTP
// adapter), answers the same JSON shape with its status and the headers that go with it.

const TOKEN = "s3cret";
let hb: TestHookbuffer;

beforeAll(async () => {
  hb = await startHookbuffer({
    yaml: [
      // Nothing listens on port 1: a proxied handshake gets 502.
      "upstream: http://127.0.0.1:1",
      "listen: {body_limit: 1kb}",
      `admin: {token: ${TOKEN}, allowed_hosts: [hookbuffer.internal]}`,
      "routes:",
      "  - name: signed",
      "    path: /signed",
      "    verify: {scheme: hmac, secret: k, header: X-Signature}",
      "    passthrough: [{method: POST, path: /validate}]",
      "  - {name: closed, path: /closed, passthrough: false}",
      "  - {name: open, path: /open}",
    ].join("\n"),
  });
});
afterAll(() => hb.stop());

const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, "content-type": "application/json" };

interface Case {
  name: string;
  listener: "ingest" | "admin";
  path: string;
  init?: RequestInit;
  status: number;
  code: string;
  headers?: Record<string, string | RegExp>;
}

const cases: Case[] = [
  {
    name: "ingest: no route",
    listener: "ingest",
    path: "/nowhere",
    init: { method: "POST" },
    status: 404,
    code: "no_route",
  },
  {
    name: "ingest: body over the limit",
    listener: "ingest",
    path: "/open/x",
    init: { method: "POST", body: "x".repeat(2048) },
    status: 413,
    code: "payload_too_large",
    headers: { connection: "close" },
  },
  {
    name: "ingest: bad signature",
    listener: "ingest",
    path: "/signed/x",
    init: { method: "POST", body: "{}", headers: { "x-signature": "0".repeat(64) } },
    status: 401,
    code: "bad_signature",
  },
  {
    name: "ingest: passthrough handshake with a bad signature",
    listener: "ingest",
    path: "/signed/validate",
    init: { method: "POST", body: "{}" },
    status: 401,
    code: "missing_signature",
  },
  {
    name: "ingest: handshake not passed through",
    listener: "ingest",
    path: "/closed/x",
    status: 405,
    code: "method_not_allowed",
    headers: { allow: "POST, PUT, PATCH, DELETE" },
  },
  {
    name: "ingest: upstream unreachable for a handshake",
    listener: "ingest",
    path: "/open/verify",
    status: 502,
    code: "bad_gateway",
  },
  {
    name: "admin: no token",
    listener: "admin",
    path: "/events",
    status: 401,
    code: "unauthorized",
    headers: { "www-authenticate": 'Bearer realm="hookbuffer"' },
  },
  {
    name: "admin: no such endpoint",
    listener: "admin",
    path: "/nope",
    init: { headers: auth },
    status: 404,
    code: "not_found",
  },
  {
    name: "admin: bad query",
    listener: "admin",
    path: "/stats?from=yesterday",
    init: { headers: auth },
    status: 400,
    code: "bad_query",
  },
  {
    name: "admin: no such event",
    listener: "admin",
    path: "/events/01NOPE",
    init: { headers: auth },
    status: 404,
    code: "no_event",
  },
  {
    name: "admin: no such route",
    listener: "admin",
    path: "/routes/nope/pause",
    init: { method: "POST", headers: json },
    status: 404,
    code: "no_route",
  },
  {
    name: "admin: change without a JSON content type",
    listener: "admin",
    path: "/routes/open/pause",
    init: { method: "POST", headers: auth },
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "admin: cross-site change",
    listener: "admin",
    path: "/routes/open/pause",
    init: { method: "POST", headers: { ...json, origin: "https://evil.example" } },
    status: 403,
    code: "cross_site",
  },
  {
    name: "admin: body over the limit",
    listener: "admin",
    path: "/events/redeliver",
    init: { method: "POST", headers: json, body: JSON.stringify({ status: "x".repeat(70_000) }) },
    status: 413,
    code: "payload_too_large",
    headers: { connection: "close" },
  },
  {
    name: "admin: bad body",
    listener: "admin",
    path: "/events/redeliver",
    init: { method: "POST", headers: json, body: "[]" },
    status: 400,
    code: "bad_body",
  },
];

function expectErrorBody(body: unknown, code: string) {
  expect(body).toEqual({ error: { code, message: expect.any(String) } });
  expect((body as { error: { message: string } }).error.message).not.toBe("");
}

describe("every refusal has the {error: {code, message}} shape", () => {
  test.each(cases)("$name", async ({ listener, path, init, status, code, headers }) => {
    const base = listener === "ingest" ? hb.ingestUrl : hb.adminUrl;
    const res = await fetch(`${base}${path}`, init);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/json");
    expectErrorBody(await res.json(), code);
    for (const [name, value] of Object.entries(headers ?? {})) {
      expect({ [name]: res.headers.get(name) }).toEqual({ [name]: value });
    }
  });

  test.each([
    ["admin", "GET /events HTTP/1.1", 403, "forbidden_host"],
    ["ingest", "POST /open/../x HTTP/1.1", 400, "bad_path"],
    ["ingest", "POST /open/x HTTP/1.1", 400, "bad_request"],
    ["admin", "GET /healthz HTTP/1.1", 400, "bad_request"],
  ] as const)("%s: %s, refused before any handler (%i %s)", async (listener, line, status, code) => {
    const port = listener === "ingest" ? hb.running.ingest.port : hb.running.admin.port;
    // A foreign Host is DNS rebinding; no Host at all is refused by the HTTP adapter itself.
    const host = { bad_path: ["Host: 127.0.0.1"], forbidden_host: ["Host: evil.example"], bad_request: [] }[
      code
    ];
    const head = [line, ...host, `Authorization: Bearer ${TOKEN}`, "Content-Length: 0"];
    const text = await rawRequest(port, head);
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(text.toLowerCase()).toContain("content-type: application/json");
    expectErrorBody(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)), code);
  });
});
