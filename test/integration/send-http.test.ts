import { randomBytes } from "node:crypto";
import type http from "node:http";
import http2 from "node:http2";
import { describe, expect } from "vitest";
import { type OutgoingRequest, send } from "../../src/transport/send.js";
import type { Upstream } from "../../src/transport/upstream.js";
import { test } from "../helpers/harness.js";
import { type ServerScope, testRoute } from "../helpers/servers.js";

function request(url: string, body = Buffer.from("{}")): OutgoingRequest {
  return { url, method: "POST", headers: [["Content-Type", "application/json"]], body };
}

function post(upstream: Upstream, url: string, timeoutMs = 2000) {
  return send(upstream, request(url), { timeoutMs, now: Date.now });
}

async function statusServer(servers: ServerScope, status: number, headers: http.OutgoingHttpHeaders = {}) {
  const seen: string[] = [];
  const server = await servers.http((req, res) => {
    seen.push(req.url ?? "");
    req.resume();
    req.on("end", () => res.writeHead(status, headers).end("response body that must be drained"));
  });
  const url = `${server.origin}/hook`;
  return { url, seen, upstream: servers.upstream(testRoute(url)) };
}

describe("send: responses and HTTP/1.1 failures", () => {
  test("delivers body bytes and header case, order and duplicates exactly", async ({ servers }) => {
    const received: { raw: string[]; body: Buffer }[] = [];
    const server = await servers.http((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ raw: req.rawHeaders, body: Buffer.concat(chunks) });
        res.end("ok");
      });
    });
    // Random bytes plus sequences that are not valid UTF-8, so any decode/re-encode would show.
    const body = Buffer.concat([
      randomBytes(4096),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x00]),
    ]);
    const headers: Array<[string, string]> = [
      ["X-Line-Signature", "c2lnbmF0dXJl"],
      ["content-TYPE", "application/octet-stream"],
      ["X-Dup", "one"],
      ["x-dup", "two"],
      ["X-Hookbuffer-Event-Id", "01JTEST"],
    ];
    const result = await send(
      servers.upstream(testRoute(server.origin)),
      { url: `${server.origin}/line/callback?a=1&b=%20`, method: "POST", headers, body },
      { timeoutMs: 2000, now: Date.now },
    );
    expect(result).toMatchObject({ ok: true, statusCode: 200, failure: null, aborted: false, error: null });
    const [got] = received;
    expect(got?.body.equals(body)).toBe(true);
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < (got?.raw.length ?? 0); i += 2)
      pairs.push([got?.raw[i] ?? "", got?.raw[i + 1] ?? ""]);
    const added = new Set(["host", "connection", "content-length"]);
    expect(pairs.filter(([name]) => !added.has(name.toLowerCase()))).toEqual(headers);
    expect(pairs).toContainEqual(["host", `127.0.0.1:${server.port}`]);
    expect(pairs).toContainEqual(["content-length", String(body.length)]);
  });

  test("sends the request path and query as given and reuses the kept-alive connection", async ({
    servers,
  }) => {
    const urls: string[] = [];
    const sockets = new Set<unknown>();
    const server = await servers.http((req, res) => {
      urls.push(req.url ?? "");
      sockets.add(req.socket);
      req.resume();
      req.on("end", () => res.end("x".repeat(100_000)));
    });
    const upstream = servers.upstream(testRoute(server.origin, { concurrency: 1 }));
    const first = await post(upstream, `${server.origin}/a/../b%2Fc?q=1&q=2`);
    const second = await post(upstream, `${server.origin}/second`);
    expect([first.ok, second.ok]).toEqual([true, true]);
    expect(urls).toEqual(["/a/../b%2Fc?q=1&q=2", "/second"]);
    expect(sockets.size).toBe(1);
  });

  test("a 302 is error_status_code / 302 and the redirect is not followed", async ({ servers }) => {
    const { url, seen, upstream } = await statusServer(servers, 302, { location: "/elsewhere" });
    const result = await post(upstream, url);
    expect(result).toMatchObject({ ok: false, statusCode: 302, retryAfterMs: null });
    expect(result.failure).toEqual({ reason: "error_status_code", detail: "302" });
    expect(seen).toEqual(["/hook"]);
  });

  test.for([400, 404, 410, 500, 502])(
    "a %i is error_status_code with the status as detail",
    async (status, { servers }) => {
      const { url, upstream } = await statusServer(servers, status, { "retry-after": "5" });
      const result = await post(upstream, url);
      expect(result).toMatchObject({ ok: false, statusCode: status, retryAfterMs: null, error: null });
      expect(result.failure).toEqual({ reason: "error_status_code", detail: String(status) });
    },
  );

  test.for([503, 429])(
    "a %i with Retry-After in seconds carries retryAfterMs",
    async (status, { servers }) => {
      const { url, upstream } = await statusServer(servers, status, { "retry-after": "120" });
      const result = await post(upstream, url);
      expect(result.failure).toEqual({ reason: "error_status_code", detail: String(status) });
      expect(result.retryAfterMs).toBe(120_000);
    },
  );

  test("a 503 with Retry-After as an HTTP-date carries the delay until then", async ({ servers }) => {
    const { url, upstream } = await statusServer(servers, 503, {
      "retry-after": new Date(Date.now() + 60_000).toUTCString(),
    });
    const result = await post(upstream, url);
    expect(result.retryAfterMs).toBeGreaterThan(57_000);
    expect(result.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  test("a server that never answers is request_timeout / Request timeout at the deadline", async ({
    servers,
  }) => {
    const server = await servers.http(() => {});
    const started = Date.now();
    const result = await post(servers.upstream(testRoute(server.origin)), `${server.origin}/hook`, 300);
    expect(result.failure).toEqual({ reason: "request_timeout", detail: "Request timeout" });
    expect(result.statusCode).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("a status that arrives before the deadline decides the outcome even if the body stalls", async ({
    servers,
  }) => {
    const server = await servers.http((_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
    });
    const result = await post(servers.upstream(testRoute(server.origin)), `${server.origin}/hook`, 300);
    expect(result).toMatchObject({ ok: true, statusCode: 200, failure: null });
  });

  test.for([
    ["a socket closed", "destroy", "UND_ERR_SOCKET other side closed"],
    ["a reset", "resetAndDestroy", "ECONNRESET read"],
  ] as const)(
    "%s after the request was read is unclassified / Session closed unexpectedly",
    async ([_what, end, error], { servers }) => {
      const server = await servers.raw((socket) => {
        let seen = "";
        socket.on("data", (chunk: Buffer) => {
          seen += chunk.toString("latin1");
          if (seen.includes("\r\n\r\n{}")) socket[end]();
        });
      });
      const result = await post(servers.upstream(testRoute(server.origin)), `${server.origin}/hook`);
      expect(result.failure).toEqual({ reason: "unclassified", detail: "Session closed unexpectedly" });
      expect(result.error).toBe(error);
    },
  );

  test("a response cut short after its status line is classified by that status, the cut noted in error", async ({
    servers,
  }) => {
    const server = await servers.raw((socket) => {
      socket.once("data", () => socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 10\r\n\r\nabc"));
    });
    const result = await post(servers.upstream(testRoute(server.origin)), `${server.origin}/hook`);
    // The status line arrived, so the status decides; the truncated body is only noted.
    expect(result.failure).toEqual({ reason: "error_status_code", detail: "502" });
    expect(result.error).toMatch(/^UND_ERR_SOCKET/);
  });

  test("a cleartext HTTP/2-only server is could_not_connect / Session protocol negotiation failure", async ({
    servers,
  }) => {
    const h2c = http2.createServer();
    const server = await servers.raw((socket) => h2c.emit("connection", socket));
    const result = await post(servers.upstream(testRoute(server.origin)), `${server.origin}/hook`);
    expect(result.failure).toEqual({
      reason: "could_not_connect",
      detail: "Session protocol negotiation failure",
    });
  });

  test("a garbled response mid-stream is unclassified / Unclassified webhook dispatch error", async ({
    servers,
  }) => {
    const server = await servers.raw((socket) => {
      socket.once("data", () => socket.end("HTTP/1.1 200 OK\r\nbad header\r\n\r\n"));
    });
    const result = await post(servers.upstream(testRoute(server.origin)), `${server.origin}/hook`);
    expect(result.failure).toEqual({ reason: "unclassified", detail: "Unclassified webhook dispatch error" });
  });
});
