import pino from "pino";
import { describe, expect } from "vitest";
import { ShutdownError } from "../../src/classify/errors.js";
import type { OutgoingRequest } from "../../src/transport/send.js";
import { createThreadSender } from "../../src/transport/thread-sender.js";
import type { UpstreamRoute } from "../../src/transport/upstream.js";
import { test } from "../helpers/harness.js";
import { getJson, SEND_THREAD, waitFor } from "../helpers/hookbuffer.js";
import { post, postJson } from "../helpers/post.js";
import { testRoute } from "../helpers/servers.js";

const quiet = pino({ level: "silent" });

/** A new thread loads its modules first: over a second on a loaded two-core machine. */
const THREAD_START_MS = 10_000;

/** A thread sender with one route "r" toward `origin`. */
function threadSender(origin: string, overrides: Partial<UpstreamRoute> = {}, script: URL = SEND_THREAD) {
  return createThreadSender({
    routes: [{ name: "r", ...testRoute(origin, overrides) }],
    log: quiet,
    now: Date.now,
    script,
  });
}

function request(url: string, body = "{}"): OutgoingRequest {
  return { url, method: "POST", headers: [["Content-Type", "application/json"]], body: Buffer.from(body) };
}

describe("delivery thread", () => {
  test("a Buffer that views a shared pool reaches the upstream as exactly its own bytes", async ({
    servers,
  }) => {
    const bodies: string[] = [];
    const server = await servers.http((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        bodies.push(Buffer.concat(chunks).toString());
        res.end("ok");
      });
    });
    const sender = threadSender(server.origin);
    // Small Buffer.from() results share one 8 KiB pool.
    const body = Buffer.from('{"n":1}');
    expect(body.buffer.byteLength).toBeGreaterThan(body.byteLength);
    const result = await sender.send("r", { ...request(`${server.origin}/hook`), body }, 2000);
    expect(result).toMatchObject({ ok: true, statusCode: 200, failure: null });
    expect(bodies).toEqual(['{"n":1}']);
    await sender.close();
  });

  test("shutdown aborts attempts in flight on the thread, and close() ends the thread", async ({
    servers,
  }) => {
    let seen = 0;
    const server = await servers.http((req) => {
      seen++;
      req.resume();
    });
    const sender = threadSender(server.origin);
    const pending = sender.send("r", request(`${server.origin}/hook`), 5000);
    await expect.poll(() => seen, { timeout: THREAD_START_MS }).toBe(1);
    sender.abort(new ShutdownError());
    expect(await pending).toMatchObject({ ok: false, aborted: true, failure: null });
    await sender.close();
  });

  test("the thread runs at most the route's concurrency at once; the rest wait there and start as slots free", async ({
    servers,
  }) => {
    let active = 0;
    let peak = 0;
    const held: Array<() => void> = [];
    const server = await servers.http((req, res) => {
      active++;
      peak = Math.max(peak, active);
      req.resume();
      held.push(() => {
        active--;
        res.end("ok");
      });
    });
    const sender = threadSender(server.origin, { concurrency: 2 });
    const results = Array.from({ length: 6 }, () => sender.send("r", request(`${server.origin}/hook`), 5000));
    await expect.poll(() => held.length, { timeout: THREAD_START_MS }).toBe(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(held.length).toBe(2); // two at a time
    for (let answered = 0; answered < 6; answered++) {
      await expect.poll(() => held.length, { timeout: THREAD_START_MS }).toBeGreaterThan(answered);
      held[answered]?.();
    }
    for (const result of await Promise.all(results))
      expect(result).toMatchObject({ ok: true, statusCode: 200 });
    expect(peak).toBe(2);
    await sender.close();
  });

  test("release() hands back the route's waiting attempts unsent; running ones finish", async ({
    servers,
  }) => {
    const held: Array<() => void> = [];
    const server = await servers.http((req, res) => {
      req.resume();
      held.push(() => res.end("ok"));
    });
    const sender = threadSender(server.origin, { concurrency: 2 });
    const results = Array.from({ length: 5 }, () => sender.send("r", request(`${server.origin}/hook`), 5000));
    await expect.poll(() => held.length, { timeout: THREAD_START_MS }).toBe(2);
    sender.release("r");
    for (const result of await Promise.all(results.slice(2))) {
      expect(result).toMatchObject({ ok: false, aborted: true, failure: null, statusCode: null });
    }
    for (const answer of held) answer();
    for (const result of await Promise.all(results.slice(0, 2))) expect(result).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(held.length).toBe(2); // nothing released was sent after the slots freed
    await sender.close();
  });

  test("a thread that dies fails the attempt it had started as unclassified, hands back the ones still queued, and the next send gets a new thread", async () => {
    const sender = threadSender(
      "http://127.0.0.1:9",
      {},
      new URL("../fixtures/exiting-thread.mjs", import.meta.url),
    );
    for (let round = 0; round < 2; round++) {
      // Sent in one turn, so they reach the thread as one batch; it starts the first and dies.
      const [first, ...queued] = await Promise.all(
        Array.from({ length: 3 }, () => sender.send("r", request("http://127.0.0.1:9/hook"), 1000)),
      );
      expect(first).toMatchObject({
        ok: false,
        aborted: false,
        failure: { reason: "unclassified", detail: "Unclassified webhook dispatch error" },
        error: "delivery thread exited (code 3) during the attempt",
      });
      for (const result of queued) {
        expect(result).toMatchObject({
          ok: false,
          aborted: true,
          failure: null,
          error: "delivery thread exited (code 3) before the attempt",
        });
      }
    }
    await sender.close();
  });

  test("an unknown route is refused before anything is posted", async () => {
    const sender = createThreadSender({ routes: [], log: quiet, now: Date.now, script: SEND_THREAD });
    expect(() => sender.send("nope", request("http://127.0.0.1:9/"), 1000)).toThrow(
      /no upstream for route nope/,
    );
    await sender.close();
  });

  test("pausing a route hands back the attempts waiting on the thread: only the running one reaches the upstream", async ({
    start,
    up,
  }) => {
    const recorder = up;
    recorder.reply(() => ({ status: 200, delayMs: 300 }));
    const hb = await start.hookbuffer({
      yaml: `upstream: ${recorder.url}\ndelivery: {concurrency: 1}\ndelivery_thread: true\n`,
    });
    for (let i = 0; i < 5; i++) expect((await post(`${hb.ingestUrl}/hook`, `{"n":${i}}`)).status).toBe(200);
    await waitFor(() => recorder.requests.length === 1, THREAD_START_MS, "the first replay");
    const name = "default"; // the route a bare `upstream:` config gets
    expect(
      (
        await fetch(`${hb.adminUrl}/routes/${name}/pause`, {
          method: "POST",
          headers: { "content-type": "application/json" },
        })
      ).status,
    ).toBe(200);
    const paused = await waitFor(async () => {
      const s = await getJson(`${hb.adminUrl}/stats`);
      return s.queue.delivered === 1 && s;
    });
    await new Promise((r) => setTimeout(r, 400)); // a released attempt would have started by now
    expect(recorder.requests.length).toBe(1);
    expect(paused.queue.pending).toBe(4);
    expect(
      (
        await fetch(`${hb.adminUrl}/routes/${name}/resume`, {
          method: "POST",
          headers: { "content-type": "application/json" },
        })
      ).status,
    ).toBe(200);
    await waitFor(
      async () => (await getJson(`${hb.adminUrl}/stats`)).queue.delivered === 5,
      8000,
      "the rest",
    );
    expect(recorder.requests.map((r) => r.body.toString()).sort()).toEqual(
      [0, 1, 2, 3, 4].map((i) => `{"n":${i}}`),
    );
  });

  for (const thread of [true, false]) {
    test(`delivery_thread: ${thread} replays the stored request byte for byte`, async ({ start, up }) => {
      const recorder = up;
      const hb = await start.hookbuffer({ yaml: `upstream: ${recorder.url}\ndelivery_thread: ${thread}\n` });
      const body = '{"events":[{"type":"message","text":"héllo"}]}';
      const res = await postJson(`${hb.ingestUrl}/callback?x=1`, body, { "x-line-signature": "sig" });
      expect(res.status).toBe(200);
      const got = await waitFor(() => recorder.requests[0], 5000, "the replay");
      expect(got.url).toBe("/callback?x=1");
      expect(got.body.toString()).toBe(body);
      expect(got.headers).toContainEqual(["x-line-signature", "sig"]);
      const stats = await waitFor(async () => {
        const s = await getJson(`${hb.adminUrl}/stats`);
        return s.queue.delivered === 1 && s;
      });
      expect(stats.queue.pending).toBe(0);
    });
  }
});
