import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { describe, expect } from "vitest";
import { test } from "../helpers/harness.js";
import { getJson, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import { header } from "../helpers/recorder.js";

/** Sends a request over a raw socket, so hop-by-hop headers arrive exactly as written. */
function rawPost(url: string, target: string, headerLines: string[], body: Buffer): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => {
      const head = [
        `POST ${target} HTTP/1.1`,
        "Host: provider.example",
        ...headerLines,
        `Content-Length: ${body.length}`,
      ];
      socket.write(`${head.join("\r\n")}\r\n\r\n`);
      socket.write(body); // no half-close: the server closes after answering (Connection: close)
    });
    let text = "";
    socket.on("data", (c: Buffer) => {
      text += c.toString("latin1");
    });
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

describe("ingest and delivery", () => {
  test("acknowledges with the event id and replays method, path, query, headers and body byte for byte", async ({
    start,
    up,
  }) => {
    const hb = await start.hookbuffer({ yaml: `upstream: ${up.url}\n` });
    const body = Buffer.concat([randomBytes(2048), Buffer.from([0xff, 0xfe, 0x00, 0xc3])]);
    const response = await rawPost(
      hb.ingestUrl,
      "/callback/line?a=1&b=%20x",
      [
        "Content-Type: application/octet-stream",
        "X-Line-Signature: abc=",
        "X-Multi: one",
        "X-Multi: two",
        "Connection: close, X-Hop",
        "X-Hop: dropped",
        "Keep-Alive: timeout=5",
      ],
      body,
    );
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    const sent = {
      json: JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>,
    };
    expect(sent.json).toEqual({ status: "accepted", id: expect.stringMatching(/^[0-9A-Z]{26}$/) });

    await waitFor(() => up.requests.length, 5_000, "delivery");
    const got = up.requests[0];
    expect(got?.method).toBe("POST");
    expect(got?.url).toBe("/callback/line?a=1&b=%20x");
    expect(got?.body.equals(body)).toBe(true);
    expect(got?.headers).toEqual(
      expect.arrayContaining([
        ["X-Line-Signature", "abc="],
        ["Content-Type", "application/octet-stream"],
      ]),
    );
    expect(got?.headers.filter(([k]) => k === "X-Multi").map(([, v]) => v)).toEqual(["one", "two"]);
    expect(header(got!, "x-hop")).toBeUndefined();
    expect(header(got!, "keep-alive")).toBeUndefined();
    expect(header(got!, "host")).not.toBe("provider.example");
    expect(header(got!, "x-hookbuffer-event-id")).toBe(sent.json.id);
    expect(header(got!, "x-hookbuffer-attempt")).toBe("1");
    expect(Date.parse(header(got!, "x-hookbuffer-received-at") ?? "")).toBeGreaterThan(Date.now() - 10_000);
  });

  test("bodies over the limit get 413 and are not stored", async ({ start, up }) => {
    const hb = await start.hookbuffer({ yaml: `upstream: ${up.url}\nlisten: {body_limit: 1kb}\n` });
    const big = await post(`${hb.ingestUrl}/x`, Buffer.alloc(1025, 1)).catch((err: Error) => ({
      status: err.message,
    }));
    expect(big.status).toBe(413);
    const ok = await post(`${hb.ingestUrl}/x`, Buffer.alloc(1024, 1));
    expect(ok.status).toBe(200);
    const stats = await getJson(`${hb.adminUrl}/stats`);
    expect(stats.totals.received).toBe(1);
  });

  test("retries failures on the schedule, counts each reason, and delivers attempt 3", async ({
    start,
    up,
  }) => {
    up.reply((_req, n) => (n === 1 ? { status: 503 } : n === 2 ? "destroy" : { status: 204 }));
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}\ndelivery: {retry: {schedule: [0s, 100ms, 100ms, 100ms]}}\n`,
    });
    const { json } = await post(`${hb.ingestUrl}/hook`);
    await waitFor(() => up.requests.length >= 3, 5_000, "three attempts");
    expect(up.requests.map((r) => header(r, "x-hookbuffer-attempt"))).toEqual(["1", "2", "3"]);
    expect(new Set(up.requests.map((r) => header(r, "x-hookbuffer-event-id")))).toEqual(new Set([json.id]));
    const stats = await waitFor(async () => {
      const s = await getJson(`${hb.adminUrl}/stats`);
      return s.totals.delivered === 1 ? s : undefined;
    });
    expect(stats.totals).toMatchObject({ received: 1, delivered: 1, failed_attempts: 2, dead: 0 });
    expect(stats.reasons).toEqual({
      could_not_connect: 0,
      request_timeout: 0,
      error_status_code: 1,
      unclassified: 1,
    });
    expect(stats.errors).toEqual(
      expect.arrayContaining([
        { reason: "error_status_code", detail: "503", count: 1 },
        { reason: "unclassified", detail: "Session closed unexpectedly", count: 1 },
      ]),
    );
    expect(stats.queue).toMatchObject({ pending: 0, delivering: 0, delivered: 1, dead: 0 });
  });

  test("an exhausted schedule makes the event dead; a 302 is a failure and is not followed", async ({
    start,
    up,
  }) => {
    up.reply(() => ({ status: 302, headers: { location: "/elsewhere" } }));
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}\ndelivery: {retry: {schedule: [0s, 50ms]}}\n`,
    });
    await post(`${hb.ingestUrl}/hook`);
    const stats = await waitFor(async () => {
      const s = await getJson(`${hb.adminUrl}/stats`);
      return s.totals.dead === 1 ? s : undefined;
    });
    expect(up.requests.map((r) => r.url)).toEqual(["/hook", "/hook"]);
    expect(stats.errors).toEqual([{ reason: "error_status_code", detail: "302", count: 2 }]);
    expect(stats.queue).toMatchObject({ pending: 0, dead: 1 });
  });

  test.for<[string, () => string]>([
    ["delay-seconds", () => "2"],
    // HTTP-date has whole seconds: three seconds ahead is at least two from the failed attempt.
    ["HTTP-date", () => new Date(Date.now() + 3_000).toUTCString()],
  ])(
    "Retry-After (%s) on a 503 is honoured over a shorter scheduled step",
    async ([_form, value], { start, up }) => {
      up.reply((_r, n) => (n === 1 ? { status: 503, headers: { "retry-after": value() } } : { status: 200 }));
      const hb = await start.hookbuffer({
        yaml: `upstream: ${up.url}\ndelivery: {retry: {schedule: [0s, 300ms]}}\n`,
      });
      await post(`${hb.ingestUrl}/hook`);
      await waitFor(() => up.requests.length >= 2, 8_000, "the retry");
      const gap = (up.requests[1]?.at ?? 0) - (up.requests[0]?.at ?? 0);
      expect(gap).toBeGreaterThanOrEqual(1_950); // the header's wait, not the schedule's 300 ms
      expect(gap).toBeLessThan(4_500);
    },
  );

  test("a Retry-After beyond retry.max_delay waits max_delay", async ({ start, up }) => {
    up.reply((_r, n) => (n === 1 ? { status: 429, headers: { "retry-after": "3600" } } : { status: 200 }));
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}\ndelivery: {retry: {schedule: [0s, 100ms], max_delay: 1500ms}}\n`,
    });
    await post(`${hb.ingestUrl}/hook`);
    await waitFor(() => up.requests.length >= 2, 8_000, "the retry");
    const gap = (up.requests[1]?.at ?? 0) - (up.requests[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(1_450);
    expect(gap).toBeLessThan(3_500); // never the hour it asked for
  });

  test("a slow upstream is a request timeout while acks stay immediate", async ({ start, up }) => {
    up.reply(() => ({ status: 200, delayMs: 1_000 }));
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}\ndelivery: {timeout: 200ms, retry: {schedule: [0s]}}\n`,
    });
    const res = await post(`${hb.ingestUrl}/hook`);
    expect(res.status).toBe(200);
    const stats = await waitFor(async () => {
      const s = await getJson(`${hb.adminUrl}/stats`);
      return s.totals.dead === 1 ? s : undefined;
    });
    expect(stats.errors).toEqual([{ reason: "request_timeout", detail: "Request timeout", count: 1 }]);
  });

  test("/stats narrows to ?from=&to= and rejects a bad window with a JSON error", async ({ start, up }) => {
    const hb = await start.hookbuffer({ yaml: `upstream: ${up.url}\n` });
    await post(`${hb.ingestUrl}/hook`);
    await waitFor(() => up.requests.length, 5_000, "delivery");
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const later = new Date(Date.now() + 7_200_000).toISOString();
    const empty = await getJson(`${hb.adminUrl}/stats?from=${future}&to=${later}`);
    expect(empty.totals.received).toBe(0);
    expect(empty.window).toMatchObject({ from: future, to: later });
    const bad = await fetch(`${hb.adminUrl}/stats?from=yesterday`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: { code: "bad_query", message: expect.stringContaining("from") },
    });
    const health = await fetch(`${hb.ingestUrl}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`${hb.adminUrl}/healthz`)).status).toBe(200);
  });
});
