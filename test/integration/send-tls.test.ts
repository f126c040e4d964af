import type { LookupFunction } from "node:net";
import { beforeAll, describe, expect } from "vitest";
import { type OutgoingRequest, send } from "../../src/transport/send.js";
import type { Upstream } from "../../src/transport/upstream.js";
import { test } from "../helpers/harness.js";
import { testRoute } from "../helpers/servers.js";
import { generateCert, type TestCert } from "../helpers/tls.js";

let cert: TestCert;
beforeAll(async () => {
  cert = await generateCert();
});

function post(upstream: Upstream, url: string) {
  const req: OutgoingRequest = { url, method: "POST", headers: [], body: Buffer.from("{}") };
  return send(upstream, req, { timeoutMs: 2000, now: Date.now });
}

const okResponse = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";

describe("send: TLS failures", () => {
  test("a certificate the client does not trust is could_not_connect / TLS handshake failure", async ({
    servers,
  }) => {
    const server = await servers.tls({ key: cert.key, cert: cert.cert }, (socket) => {
      socket.once("data", () => socket.end(okResponse));
    });
    const url = `https://127.0.0.1:${server.port}/hook`;
    const result = await post(servers.upstream(testRoute(url)), url);
    expect(result.failure).toEqual({ reason: "could_not_connect", detail: "TLS handshake failure" });
    expect(result.error).toBe("DEPTH_ZERO_SELF_SIGNED_CERT self-signed certificate");
  });

  test("a certificate for another name is could_not_connect / TLS handshake failure", async ({ servers }) => {
    const server = await servers.tls({ key: cert.key, cert: cert.cert }, (socket) => {
      socket.once("data", () => socket.end(okResponse));
    });
    // Trusted, but issued for localhost/127.0.0.1 only; "other.test" resolves to the same server.
    const toLoopback: LookupFunction = (_host, options, callback) =>
      callback(null, options.all ? [{ address: "127.0.0.1", family: 4 }] : "127.0.0.1", 4);
    const url = `https://other.test:${server.port}/hook`;
    const upstream = servers.upstream(testRoute(url), { tls: { ca: cert.cert }, lookup: toLoopback });
    const result = await post(upstream, url);
    expect(result.failure).toEqual({ reason: "could_not_connect", detail: "TLS handshake failure" });
    expect(result.error).toMatch(/^ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  test("the same trusted certificate delivers", async ({ servers }) => {
    const server = await servers.tls({ key: cert.key, cert: cert.cert }, (socket) => {
      socket.once("data", () => socket.end(okResponse));
    });
    const url = `https://127.0.0.1:${server.port}/hook`;
    const result = await post(servers.upstream(testRoute(url), { tls: { ca: cert.cert } }), url);
    expect(result).toMatchObject({ ok: true, statusCode: 200, failure: null });
  });

  test("an https URL pointing at a plain HTTP port is could_not_connect / No SSL/TLS record", async ({
    servers,
  }) => {
    const server = await servers.http((_req, res) => res.end("plain"));
    const url = `https://127.0.0.1:${server.port}/hook`;
    const result = await post(servers.upstream(testRoute(url)), url);
    expect(result.failure).toEqual({ reason: "could_not_connect", detail: "No SSL/TLS record" });
    expect(result.error).toBe("ERR_SSL_WRONG_VERSION_NUMBER wrong version number");
  });

  test("a reset during the TLS handshake is could_not_connect / Connection failed (session closed)", async ({
    servers,
  }) => {
    // Reads the ClientHello, then answers with RST: the request was never written.
    const server = await servers.raw((socket) => {
      socket.once("data", () => socket.resetAndDestroy());
    });
    const url = `https://127.0.0.1:${server.port}/hook`;
    const result = await post(servers.upstream(testRoute(url)), url);
    expect(result.failure).toEqual({
      reason: "could_not_connect",
      detail: "Connection failed (session closed)",
    });
    expect(result.error).toMatch(/^ECONNRESET/);
  });

  test("an h2-only server and an HTTP/1.1 client are could_not_connect / Session protocol negotiation failure", async ({
    servers,
  }) => {
    const server = await servers.h2({ key: cert.key, cert: cert.cert, allowHTTP1: false }, (h2) => {
      h2.on("stream", (stream) => stream.respond({ ":status": 200 }, { endStream: true }));
    });
    const url = `https://127.0.0.1:${server.port}/hook`;
    const upstream = servers.upstream(testRoute(url, { http2: false }), { tls: { ca: cert.cert } });
    const result = await post(upstream, url);
    expect(result.failure).toEqual({
      reason: "could_not_connect",
      detail: "Session protocol negotiation failure",
    });
    expect(result.error).toMatch(/^ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL/);
  });
});
