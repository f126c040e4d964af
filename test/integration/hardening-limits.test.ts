import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { getJson, startHookbuffer, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { rawClient, rawRequest, statusOf } from "../helpers/raw.js";
import { type Recorder, startRecorder } from "../helpers/recorder.js";

const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 1000;

let hb: TestHookbuffer;
let up: Recorder;
let port: number;
beforeAll(async () => {
  up = await startRecorder();
  hb = await startHookbuffer({
    yaml: `upstream: ${up.url}
listen:
  body_limit: 1kb
  headers_timeout: ${HEADERS_TIMEOUT_MS}ms
  request_timeout: ${REQUEST_TIMEOUT_MS}ms
  max_header_size: 2kb
`,
  });
  port = hb.running.ingest.port;
});
afterAll(async () => {
  await hb?.stop();
  await up?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("request size limits", () => {
  test("a chunked body without Content-Length is cut off with 413 once it passes body_limit", async () => {
    const client = await rawClient(
      port,
      "POST /big HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    // 512-byte chunks that never end: the 413 must come from counting, not from waiting for the end.
    const chunk = `200\r\n${"x".repeat(512)}\r\n`;
    const writer = setInterval(() => {
      if (!client.socket.destroyed) client.socket.write(chunk);
    }, 20);
    try {
      const closedAfter = await client.closed;
      expect(statusOf(client.received())).toBe(413);
      expect(client.received()).toContain('"payload_too_large"');
      // Closed by us, well before the 1 s request timeout would have done it.
      expect(closedAfter).toBeLessThan(REQUEST_TIMEOUT_MS);
    } finally {
      clearInterval(writer);
    }
    const stats = await getJson(`${hb.adminUrl}/stats`);
    expect(stats.totals.received).toBe(0);
    expect(up.requests.filter((r) => r.url === "/big")).toEqual([]);
  });

  test("a chunked body within body_limit is accepted", async () => {
    const body = "x".repeat(1000);
    const res = await rawRequest(
      port,
      ["POST /chunked-ok HTTP/1.1", "Host: p", "Transfer-Encoding: chunked"],
      `${(500).toString(16)}\r\n${body.slice(0, 500)}\r\n${(500).toString(16)}\r\n${body.slice(500)}\r\n0\r\n\r\n`,
    );
    expect(statusOf(res)).toBe(200);
    const got = await waitFor(() => up.requests.find((r) => r.url === "/chunked-ok"), 5_000, "delivery");
    expect(got.body.toString()).toBe(body);
  });

  test("a header block over max_header_size is refused with 431, one below it is accepted", async () => {
    const big = await rawRequest(port, [
      "POST /h HTTP/1.1",
      "Host: p",
      `X-Big: ${"a".repeat(3000)}`,
      "Content-Length: 0",
    ]);
    expect(statusOf(big)).toBe(431);
    // Many small headers count towards the same byte limit (Node's maxHeadersCount alone would drop them silently).
    const many = Array.from({ length: 400 }, (_, i) => `X-H${i}: v`);
    expect(
      statusOf(await rawRequest(port, ["POST /h HTTP/1.1", "Host: p", ...many, "Content-Length: 0"])),
    ).toBe(431);
    const ok = await rawRequest(port, [
      "POST /h HTTP/1.1",
      "Host: p",
      `X-Big: ${"a".repeat(1500)}`,
      "Content-Length: 0",
    ]);
    expect(statusOf(ok)).toBe(200);
  });
});

describe("slow clients", () => {
  test("slowloris sockets are closed after headers_timeout / request_timeout while other clients are served", async () => {
    const dribble = (c: { socket: import("node:net").Socket }) =>
      setInterval(() => {
        if (!c.socket.destroyed) c.socket.write("a");
      }, 50);
    const headerDribblers = await Promise.all(
      [1, 2, 3].map(() => rawClient(port, "POST /slow HTTP/1.1\r\nHost: p\r\nX-Slow: ")),
    );
    const bodyDribblers = await Promise.all(
      [1, 2, 3].map(() => rawClient(port, "POST /slow HTTP/1.1\r\nHost: p\r\nContent-Length: 1000\r\n\r\n")),
    );
    const silent = await Promise.all([1, 2].map(() => rawClient(port)));
    const timers = [...headerDribblers, ...bodyDribblers].map(dribble);
    try {
      // Meanwhile an ordinary provider keeps getting fast acknowledgements.
      const latencies: number[] = [];
      const started = Date.now();
      while (Date.now() - started < REQUEST_TIMEOUT_MS + 500) {
        const t0 = Date.now();
        const res = await request(`${hb.ingestUrl}/fast`, { method: "POST", body: "{}" });
        await res.body.dump();
        expect(res.statusCode).toBe(200);
        latencies.push(Date.now() - t0);
        await sleep(50);
      }
      expect(latencies.length).toBeGreaterThan(10);
      expect(Math.max(...latencies)).toBeLessThan(250);

      // Node checks deadlines every connectionsCheckingInterval: allow that plus scheduling slack.
      const slack = 700;
      for (const c of [...headerDribblers, ...silent]) {
        const after = await c.closed;
        expect(after).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
        expect(after).toBeLessThan(HEADERS_TIMEOUT_MS + slack);
      }
      for (const c of headerDribblers) expect(statusOf(c.received())).toBe(408);
      for (const c of bodyDribblers) {
        const after = await c.closed;
        expect(after).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
        expect(after).toBeLessThan(REQUEST_TIMEOUT_MS + slack);
        expect(statusOf(c.received())).toBe(408);
      }
    } finally {
      for (const t of timers) clearInterval(t);
      for (const c of [...headerDribblers, ...bodyDribblers, ...silent]) c.socket.destroy();
    }
    expect(up.requests.filter((r) => r.url === "/slow")).toEqual([]);
  });
});
