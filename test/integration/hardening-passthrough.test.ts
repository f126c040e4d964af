import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startHookbuffer, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { rawClient } from "../helpers/raw.js";

// An upstream whose /stream answer sends a first chunk, then waits for the test to release the rest.
let release: () => void = () => undefined;
const seen: string[] = [];
let upstream: Server;
let upstreamUrl: string;
let hb: TestHookbuffer;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url?.endsWith("/stream")) {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.write("first-chunk;");
      release = () => res.end("rest");
      return;
    }
    if (req.url?.endsWith("/hang")) return; // never answers
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`ok ${req.url}`);
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  hb = await startHookbuffer({
    yaml: `upstream: ${upstreamUrl}
routes:
  - name: open
    path: /open
  - name: slow
    path: /slow
    delivery: {timeout: 500ms}
  - name: closed
    path: /closed
    passthrough: false
  - name: meta
    path: /meta
    handshake_paths: [/verify]
  - name: down
    path: /down
    upstream: http://127.0.0.1:9/secret-internal-path
`,
  });
});
afterAll(async () => {
  release();
  await hb?.stop();
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

describe("passthrough responses are streamed", () => {
  test("the client gets the first chunk while the upstream is still sending", async () => {
    const port = hb.running.ingest.port;
    const client = await rawClient(port, "GET /open/stream HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n");
    try {
      // Buffering the whole response would hold this back until the upstream ends (it does not yet).
      await waitFor(() => client.received().includes("first-chunk;"), 3_000, "the first chunk");
      expect(client.received()).not.toContain("rest");
      release();
      await client.closed;
      expect(client.received()).toMatch(/^HTTP\/1\.1 200 /);
      expect(client.received()).toContain("rest");
    } finally {
      client.socket.destroy();
    }
  });
});

describe("which handshakes are passed through", () => {
  test.each([
    ["GET", "/closed/anything"],
    ["HEAD", "/closed"],
    ["OPTIONS", "/closed/x"],
    ["GET", "/meta/admin"],
    ["GET", "/meta/verifyx"],
  ])("%s %s is not proxied: 405 JSON, the upstream sees nothing", async (method, path) => {
    const res = await request(`${hb.ingestUrl}${path}`, { method: method as "GET" });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe("POST, PUT, PATCH, DELETE");
    if (method !== "HEAD") {
      const body = (await res.body.json()) as { error: { code: string } };
      expect(body.error.code).toBe("method_not_allowed");
    } else await res.body.dump();
    expect(seen.filter((s) => s.endsWith(path))).toEqual([]);
  });

  test("handshake_paths still proxies the listed path and below", async () => {
    for (const path of ["/meta/verify", "/meta/verify/sub?hub.challenge=7"]) {
      const res = await request(`${hb.ingestUrl}${path}`);
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe(`ok ${path}`);
    }
  });

  test("POST on a passthrough: false route is still buffered as a webhook", async () => {
    const res = await request(`${hb.ingestUrl}/closed/hook`, { method: "POST", body: "{}" });
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as { status: string }).status).toBe("accepted");
  });
});

describe("failures do not reveal the upstream", () => {
  test("an unreachable upstream gets a generic 502; the detail is only in the log", async () => {
    const res = await request(`${hb.ingestUrl}/down/check`);
    expect(res.statusCode).toBe(502);
    const text = await res.body.text();
    expect(JSON.parse(text)).toEqual({ error: { code: "bad_gateway", message: expect.any(String) } });
    expect(text).not.toMatch(/127\.0\.0\.1|:9\b|ECONNREFUSED|secret-internal-path/);
    await waitFor(() => hb.logs.some((l) => l.includes("passthrough request to the upstream failed")));
  });

  test("an upstream that never answers gets 504 within the route's timeout", async () => {
    const started = Date.now();
    const res = await request(`${hb.ingestUrl}/slow/hang`);
    expect(res.statusCode).toBe(504);
    const body = (await res.body.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("gateway_timeout");
    expect(body.error.message).not.toContain("127.0.0.1");
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
