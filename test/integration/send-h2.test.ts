import { randomBytes } from "node:crypto";
import http2 from "node:http2";
import { beforeAll, describe, expect } from "vitest";
import { type OutgoingRequest, send } from "../../src/transport/send.js";
import type { Upstream } from "../../src/transport/upstream.js";
import { test } from "../helpers/harness.js";
import { type ServerScope, testRoute } from "../helpers/servers.js";
import { generateCert, type TestCert } from "../helpers/tls.js";

let cert: TestCert;
beforeAll(async () => {
  cert = await generateCert();
});

const { NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;

async function h2Upstream(servers: ServerScope, setup: (server: http2.Http2SecureServer) => void) {
  const server = await servers.h2({ key: cert.key, cert: cert.cert, allowHTTP1: false }, setup);
  const url = `https://127.0.0.1:${server.port}/hook`;
  const upstream = servers.upstream(testRoute(url, { http2: true }), { tls: { ca: cert.cert } });
  return { url, upstream };
}

function post(
  upstream: Upstream,
  url: string,
  body = Buffer.from("{}"),
  headers: Array<[string, string]> = [],
) {
  const req: OutgoingRequest = { url, method: "POST", headers, body };
  return send(upstream, req, { timeoutMs: 2000, now: Date.now });
}

describe("send: HTTP/2 upstreams", () => {
  test("delivers over h2 with the body bytes intact and the headers kept", async ({ servers }) => {
    const received: { alpn: string | undefined; headers: http2.IncomingHttpHeaders; body: Buffer }[] = [];
    const { url, upstream } = await h2Upstream(servers, (h2) => {
      h2.on("stream", (stream, headers) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          received.push({ alpn: stream.session?.alpnProtocol, headers, body: Buffer.concat(chunks) });
          stream.respond({ ":status": 202 });
          stream.end("accepted");
        });
      });
    });
    const body = Buffer.concat([randomBytes(2048), Buffer.from([0xff, 0xfe, 0xc3, 0x28])]);
    const result = await post(upstream, `${url}?x=1`, body, [
      ["X-Line-Signature", "sig"],
      ["X-Dup", "one"],
      ["X-Dup", "two"],
    ]);
    expect(result).toMatchObject({ ok: true, statusCode: 202, failure: null, error: null });
    const [got] = received;
    expect(got?.alpn).toBe("h2");
    expect(got?.body.equals(body)).toBe(true);
    // HTTP/2 field names are lower case on the wire (RFC 9113 §8.2.1); undici joins repeats with ", ".
    expect(got?.headers).toMatchObject({
      ":path": "/hook?x=1",
      "x-line-signature": "sig",
      "x-dup": "one, two",
      "content-length": String(body.length),
    });
  });

  test("a GOAWAY before the stream is processed is could_not_connect / Connection failed (received GOAWAY)", async ({
    servers,
  }) => {
    const { url, upstream } = await h2Upstream(servers, (h2) => {
      // Last-Stream-ID 0: no stream of ours was or will be processed (RFC 9113 §6.8).
      h2.on("stream", (stream) => stream.session?.goaway(NGHTTP2_NO_ERROR, 0));
    });
    const result = await post(upstream, url);
    expect(result.failure).toEqual({
      reason: "could_not_connect",
      detail: "Connection failed (received GOAWAY)",
    });
    expect(result.error).toMatch(/^UND_ERR_SOCKET HTTP\/2: "GOAWAY" frame received/);
  });

  test("a GOAWAY as soon as the session opens is could_not_connect / Connection failed (received GOAWAY)", async ({
    servers,
  }) => {
    const { url, upstream } = await h2Upstream(servers, (h2) => {
      h2.on("session", (session) => session.goaway(NGHTTP2_NO_ERROR, 0));
    });
    const result = await post(upstream, url);
    expect(result.failure).toEqual({
      reason: "could_not_connect",
      detail: "Connection failed (received GOAWAY)",
    });
  });

  test("a stream reset is unclassified / Stream closed unexpectedly", async ({ servers }) => {
    const { url, upstream } = await h2Upstream(servers, (h2) => {
      h2.on("stream", (stream) => stream.close(NGHTTP2_INTERNAL_ERROR));
    });
    const result = await post(upstream, url);
    expect(result.failure).toEqual({ reason: "unclassified", detail: "Stream closed unexpectedly" });
    expect(result.error).toBe("ERR_HTTP2_STREAM_ERROR Stream closed with error code NGHTTP2_INTERNAL_ERROR");
  });

  test("a 503 over h2 carries Retry-After", async ({ servers }) => {
    const { url, upstream } = await h2Upstream(servers, (h2) => {
      h2.on("stream", (stream) => {
        stream.resume();
        stream.on("end", () => stream.respond({ ":status": 503, "retry-after": "7" }, { endStream: true }));
      });
    });
    const result = await post(upstream, url);
    expect(result.failure).toEqual({ reason: "error_status_code", detail: "503" });
    expect(result.retryAfterMs).toBe(7000);
  });
});
