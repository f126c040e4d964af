import type { LookupFunction } from "node:net";
import { describe, expect } from "vitest";
import { type OutgoingRequest, send } from "../../src/transport/send.js";
import type { Upstream } from "../../src/transport/upstream.js";
import { test } from "../helpers/harness.js";
import { testRoute } from "../helpers/servers.js";

function post(upstream: Upstream, url: string, timeoutMs = 2000) {
  const req: OutgoingRequest = {
    url,
    method: "POST",
    headers: [["Content-Type", "text/plain"]],
    body: Buffer.from("hi"),
  };
  return send(upstream, req, { timeoutMs, now: Date.now });
}

describe("send: failures before a connection exists", () => {
  test("a refused connection is could_not_connect / Connection failed", async ({ servers }) => {
    const port = await servers.closedPort();
    const url = `http://127.0.0.1:${port}/hook`;
    const result = await post(servers.upstream(testRoute(url)), url);
    expect(result).toMatchObject({ ok: false, statusCode: null, aborted: false });
    expect(result.failure).toEqual({ reason: "could_not_connect", detail: "Connection failed" });
    expect(result.error).toBe(`ECONNREFUSED connect 127.0.0.1:${port}`);
  });

  test("a name that does not resolve is could_not_connect / Unknown host", async ({ servers }) => {
    // .invalid never resolves (RFC 6761 §6.4); the system resolver answers without network.
    const url = "http://nohost.invalid/hook";
    const result = await post(servers.upstream(testRoute(url)), url);
    expect(result.failure).toEqual({ reason: "could_not_connect", detail: "Unknown host" });
    expect(result.error).toMatch(/^ENOTFOUND/);
  });

  test.for(["http://127.0.0.1:99999/hook", "http://exa mple.com/", "ftp://127.0.0.1/hook", "not a url"])(
    "the unusable URL %j is could_not_connect / Invalid URL syntax",
    async (url, { servers }) => {
      const port = await servers.closedPort();
      const upstream = servers.upstream(testRoute(`http://127.0.0.1:${port}`));
      const result = await post(upstream, url);
      expect(result.failure).toEqual({ reason: "could_not_connect", detail: "Invalid URL syntax" });
      expect(result.aborted).toBe(false);
    },
  );

  test("a connect the server never completes is could_not_connect / Connection timeout", async ({
    servers,
  }) => {
    const hole = await servers.blackhole();
    const url = `${hole.origin}/hook`;
    const upstream = servers.upstream(testRoute(url, { connectTimeoutMs: 300, timeoutMs: 3000 }));
    const started = Date.now();
    const result = await post(upstream, url, 3000);
    expect(result.failure).toEqual({ reason: "could_not_connect", detail: "Connection timeout" });
    expect(result.error).toMatch(/^UND_ERR_CONNECT_TIMEOUT/);
    // undici's connect timer ticks at ~0.5 s resolution; well before the 3 s attempt deadline.
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test("a connect still pending at the attempt deadline is Connection timeout, not Request timeout", async ({
    servers,
  }) => {
    const hole = await servers.blackhole();
    const url = `${hole.origin}/hook`;
    const upstream = servers.upstream(testRoute(url, { connectTimeoutMs: 300, timeoutMs: 300 }));
    const result = await post(upstream, url, 300);
    expect(result.failure).toEqual({ reason: "could_not_connect", detail: "Connection timeout" });
  });

  test("a resolver that never answers is could_not_connect / DNS Query timeout", async ({ servers }) => {
    const calls: string[] = [];
    const silent: LookupFunction = (hostname) => {
      calls.push(hostname);
    };
    const url = "http://hangs.example:8080/hook";
    const upstream = servers.upstream(testRoute(url, { dnsTimeoutMs: 200, connectTimeoutMs: 1500 }), {
      lookup: silent,
    });
    const started = Date.now();
    const result = await post(upstream, url);
    expect(calls).toEqual(["hangs.example"]);
    expect(result.failure).toEqual({ reason: "could_not_connect", detail: "DNS Query timeout" });
    expect(result.error).toMatch(/^HOOKBUFFER_DNS_TIMEOUT/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("a resolver answering after its deadline is ignored", async ({ servers }) => {
    const late: LookupFunction = (_hostname, options, callback) => {
      setTimeout(
        () => callback(null, options.all ? [{ address: "127.0.0.1", family: 4 }] : "127.0.0.1", 4),
        400,
      );
    };
    const url = "http://late.example:8080/hook";
    const upstream = servers.upstream(testRoute(url, { dnsTimeoutMs: 100 }), { lookup: late });
    const result = await post(upstream, url);
    expect(result.failure).toEqual({ reason: "could_not_connect", detail: "DNS Query timeout" });
  });
});
