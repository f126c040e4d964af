import { describe, expect } from "vitest";
import { ShutdownError } from "../../src/classify/errors.js";
import { type OutgoingRequest, send, shutdownController } from "../../src/transport/send.js";
import { test } from "../helpers/harness.js";
import { type ServerScope, testRoute } from "../helpers/servers.js";

function request(url: string, headers: Array<[string, string]> = []): OutgoingRequest {
  return { url, method: "POST", headers, body: Buffer.from("{}") };
}

/** A server that reads requests and never answers, counting them. */
async function silentServer(servers: ServerScope, concurrency = 2) {
  const seen: string[] = [];
  const server = await servers.http((req) => {
    seen.push(req.url ?? "");
    req.resume();
  });
  return {
    url: `${server.origin}/hook`,
    seen,
    upstream: servers.upstream(testRoute(server.origin, { concurrency })),
  };
}

describe("send: shutdown and bookkeeping", () => {
  test("our shutdown signal ends an in-flight attempt as aborted, not failed", async ({ servers }) => {
    const { url, upstream, seen } = await silentServer(servers);
    const shutdown = new AbortController();
    const pending = send(upstream, request(url), { timeoutMs: 5000, now: Date.now, signal: shutdown.signal });
    await expect.poll(() => seen.length).toBe(1);
    shutdown.abort(new ShutdownError());
    const result = await pending;
    expect(result).toMatchObject({ ok: false, aborted: true, failure: null, statusCode: null });
  });

  test("one shutdown signal carries a route's whole concurrency without a listener-leak warning", async ({
    servers,
  }) => {
    const { url, upstream, seen } = await silentServer(servers, 16);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on("warning", onWarning);
    try {
      const shutdown = shutdownController();
      const pending = Array.from({ length: 16 }, () =>
        send(upstream, request(url), { timeoutMs: 5000, now: Date.now, signal: shutdown.signal }),
      );
      await expect.poll(() => seen.length).toBe(16);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on a later tick
      shutdown.abort(new ShutdownError());
      const results = await Promise.all(pending);
      expect(results.every((r) => r.aborted)).toBe(true);
      expect(warnings).not.toContain("MaxListenersExceededWarning");
    } finally {
      process.off("warning", onWarning);
    }
  });

  test("an already aborted signal sends nothing", async ({ servers }) => {
    const { url, upstream, seen } = await silentServer(servers);
    const result = await send(upstream, request(url), {
      timeoutMs: 5000,
      now: Date.now,
      signal: AbortSignal.abort(),
    });
    expect(result).toMatchObject({ aborted: true, failure: null });
    expect(seen).toEqual([]);
  });

  test("destroying the upstream under an attempt is a shutdown abort", async ({ servers }) => {
    const { url, upstream, seen } = await silentServer(servers);
    const pending = send(upstream, request(url), { timeoutMs: 5000, now: Date.now });
    await expect.poll(() => seen.length).toBe(1);
    await upstream.destroy();
    expect(await pending).toMatchObject({ aborted: true, failure: null });
  });

  test("sending through a closed upstream is a shutdown abort", async ({ servers }) => {
    const { url, upstream } = await silentServer(servers);
    await upstream.close();
    expect(await send(upstream, request(url), { timeoutMs: 5000, now: Date.now })).toMatchObject({
      aborted: true,
      failure: null,
    });
  });

  test("resolves instead of throwing when undici rejects the request", async ({ servers }) => {
    const { url, upstream, seen } = await silentServer(servers);
    const result = await send(upstream, request(url, [["X-Bad", "line\nbreak"]]), {
      timeoutMs: 5000,
      now: Date.now,
    });
    expect(result.failure).toEqual({ reason: "unclassified", detail: "Unclassified webhook dispatch error" });
    expect(result.error).toBe("UND_ERR_INVALID_ARG invalid X-Bad header");
    expect(seen).toEqual([]);
  });

  test("times the attempt with the injected clock", async ({ servers }) => {
    const server = await servers.http((_req, res) => res.end());
    const ticks = [1_000, 1_250];
    const now = (): number => ticks.shift() ?? 9_999;
    const result = await send(servers.upstream(testRoute(server.origin)), request(server.origin), {
      timeoutMs: 2000,
      now,
    });
    expect(result).toMatchObject({ ok: true, startedAt: 1_000, durationMs: 250 });
  });
});
