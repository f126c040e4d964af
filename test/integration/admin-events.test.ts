import { randomBytes } from "node:crypto";
import { describe, expect } from "vitest";
import type { EventJson, eventDetailJson, RouteJson } from "../../src/admin/event-json.js";
import { type Start, test } from "../helpers/harness.js";
import { getJson, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import { header } from "../helpers/recorder.js";

type Detail = ReturnType<typeof eventDetailJson>;
type Page = { events: EventJson[]; next_cursor: string | null };
type ErrorBody = { error: { code: string; message: string } };

/** Two routes on one recorder; failures never open the breaker, so every event reaches its fate. */
async function open(start: Start, options: { schedule?: string; token?: string; ordering?: string } = {}) {
  const recorder = await start.recorder();
  const yaml = [
    `upstream: ${recorder.url}`,
    `delivery: {retry: {schedule: [${options.schedule ?? "0s"}]}, breaker: {failures: 0}, ordering: ${options.ordering ?? "none"}}`,
    ...(options.token ? [`admin: {token: ${options.token}}`] : []),
    "routes:",
    "  - {name: a, path: /a}",
    "  - {name: b, path: /b}",
  ].join("\n");
  const server = await start.hookbuffer({ yaml });
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const init: RequestInit = { method, headers: { ...auth, "content-type": "application/json" } };
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
    const res = await fetch(`${server.adminUrl}${path}`, init);
    return { status: res.status, json: (await res.json()) as T };
  }
  async function ingest(path: string, body: Buffer | string = "{}", headers: Record<string, string> = {}) {
    const res = await post(`${server.ingestUrl}${path}`, body, headers);
    expect(res.status).toBe(200);
    return res.json.id as string;
  }
  const list = async (query: string) => (await api<Page>("GET", `/events?${query}`)).json.events;
  const waitCount = (query: string, n: number) =>
    waitFor(async () => (await list(`${query}&limit=500`)).length === n, 10_000, `${n} events for ${query}`);
  return { recorder, server, api, ingest, list, waitCount };
}

describe("admin events API", () => {
  test("lists newest first, filters by status, route, reason and time, and a cursor walks every page once", async ({
    start,
  }) => {
    const { recorder, ingest, list, waitCount, api } = await open(start);
    recorder.reply((req) => ({ status: req.url.includes("fail") ? 500 : 200 }));
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await ingest(`/a/ok/${i}`));
    for (let i = 0; i < 3; i++) ids.push(await ingest(`/a/fail/${i}`));
    for (let i = 0; i < 2; i++) ids.push(await ingest(`/b/ok/${i}`));
    await waitCount("status=delivered", 9);
    await waitCount("status=dead", 3);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = (await api<Page>("GET", `/events?limit=5${cursor ? `&cursor=${cursor}` : ""}`)).json;
      seen.push(...page.events.map((e) => e.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());

    const dead = await list("status=dead");
    expect(dead.map((e) => e.id)).toEqual(ids.slice(7, 10).reverse());
    expect(dead[0]).toMatchObject({
      route: "a",
      method: "POST",
      path: "/a/fail/2",
      attempts: 1,
      next_attempt_at: null,
      last_reason: "error_status_code",
      last_detail: "500",
      last_status: 500,
      delivered_at: null,
      body_size: 2,
    });
    expect((await list("route=b")).map((e) => e.id)).toEqual(ids.slice(10).reverse());
    expect(await list("route=a&reason=error_status_code")).toHaveLength(3);
    expect(await list("reason=request_timeout")).toHaveLength(0);
    const delivered = await list("status=delivered&route=b");
    expect(Date.parse(delivered[0]?.delivered_at ?? "")).toBeGreaterThan(0);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(await list(`since=${future}`)).toHaveLength(0);
    expect(await list(`until=${future}&limit=500`)).toHaveLength(12);
  });

  test("shows one event with its headers and attempts, and the body byte for byte with ?body=1", async ({
    start,
  }) => {
    const { recorder, ingest, api, waitCount } = await open(start);
    // A 5000-byte answer: the attempt keeps its first 4096 bytes and the whole size.
    const answer = `${"e".repeat(4090)}ABCDEFGHIJ${"z".repeat(900)}`;
    recorder.reply(() => ({ status: 503, body: answer, headers: { "content-type": "text/plain" } }));
    const body = Buffer.concat([randomBytes(3000), Buffer.from([0x00, 0xff, 0xfe])]);
    const id = await ingest("/a/hook?x=1", body, {
      "X-Provider-Signature": "sig=",
      Cookie: "session=secret",
      "X-Tenant": "t1",
      "content-type": "application/x-bin",
    });
    await waitCount("status=dead", 1);

    const plain = await api<Detail>("GET", `/events/${id}`);
    expect(plain.status).toBe(200);
    expect(plain.json).toMatchObject({ id, route: "a", status: "dead", query: "x=1", attempt_count: 1 });
    // Credentials and signatures are masked; other headers are shown as stored.
    expect(plain.json.headers).toContainEqual(["X-Provider-Signature", "[redacted]"]);
    expect(plain.json.headers).toContainEqual(["Cookie", "[redacted]"]);
    expect(plain.json.headers).toContainEqual(["X-Tenant", "t1"]);
    expect(JSON.stringify(plain.json)).not.toContain("session=secret");
    // Binary bodies read as hex, with their size.
    expect(plain.json.body).toEqual({
      size: 3003,
      encoding: "hex",
      content: body.toString("hex"),
      truncated: false,
    });
    expect(plain.json.attempts).toEqual([
      {
        n: 1,
        started_at: expect.stringMatching(/Z$/),
        duration_ms: expect.any(Number),
        outcome: "failed",
        reason: "error_status_code",
        detail: "503",
        status_code: 503,
        error: null,
        response: {
          status: 503,
          size: 5000,
          body: { size: 5000, encoding: "text", content: answer.slice(0, 4096), truncated: true },
        },
      },
    ]);
    expect(plain.json.history).toEqual([]);
    expect(plain.json).not.toHaveProperty("body_base64");

    const full = await api<Detail>("GET", `/events/${id}?body=1`);
    expect(Buffer.from(full.json.body_base64 ?? "", "base64").equals(body)).toBe(true);

    // A JSON body reads pretty-printed; the redelivery shows in the history as an operator action.
    recorder.reply(() => ({ status: 200, body: '{"ok":true}' }));
    const jsonId = await ingest("/a/json", '{"user":{"id":"U1"},"n":[1,2]}');
    await waitCount("status=delivered", 1);
    expect((await api("POST", `/events/${jsonId}/redeliver`)).status).toBe(202);
    await waitFor(async () => (await api<Detail>("GET", `/events/${jsonId}`)).json.attempt_count === 2);
    const json = (await api<Detail>("GET", `/events/${jsonId}`)).json;
    expect(json.body).toEqual({
      size: 30,
      encoding: "json",
      content: JSON.stringify({ user: { id: "U1" }, n: [1, 2] }, null, 2),
      truncated: false,
    });
    expect(json.attempts[1]?.response).toEqual({
      status: 200,
      size: 11,
      body: { size: 11, encoding: "json", content: '{\n  "ok": true\n}', truncated: false },
    });
    expect(json.history).toEqual([
      { at: expect.stringMatching(/Z$/), action: "redeliver", request_id: null },
    ]);
  });

  test("redelivering a dead event delivers it and keeps its attempt history", async ({ start }) => {
    const { recorder, server, ingest, api, waitCount } = await open(start);
    recorder.reply(() => ({ status: 500 }));
    const id = await ingest("/a/hook");
    await waitCount("status=dead", 1);
    recorder.reply(() => ({ status: 200 }));

    const res = await api("POST", `/events/${id}/redeliver`);
    expect(res).toEqual({ status: 202, json: { id, status: "pending" } });
    await waitCount("status=delivered", 1);
    expect(recorder.requests.map((r) => header(r, "x-hookbuffer-attempt"))).toEqual(["1", "2"]);
    const detail = (await api<Detail>("GET", `/events/${id}`)).json;
    expect(detail).toMatchObject({
      status: "delivered",
      attempt_count: 2,
      last_status: 200,
      next_attempt_at: null,
    });
    expect(detail.attempts.map((a) => a.outcome)).toEqual(["failed", "delivered"]);
    const stats = await getJson(`${server.adminUrl}/stats`);
    expect(stats.queue).toMatchObject({ pending: 0, delivering: 0, delivered: 1, dead: 0 });
  });

  test("redelivering a pending event makes its next attempt due now", async ({ start }) => {
    const { recorder, ingest, api, list } = await open(start, { schedule: "0s, 1h" });
    recorder.reply((_r, n) => ({ status: n === 1 ? 500 : 200 }));
    const id = await ingest("/a/hook");
    await waitFor(async () => (await list("status=pending"))[0]?.attempts === 1, 5_000, "first failure");
    expect((await api("POST", `/events/${id}/redeliver`)).status).toBe(202);
    await waitFor(() => recorder.requests.length === 2, 5_000, "the early retry");
  });

  test("bulk redelivery by filter delivers every matching dead event and returns the count", async ({
    start,
  }) => {
    const { recorder, server, ingest, api, waitCount, list } = await open(start);
    recorder.reply(() => ({ status: 500 }));
    for (let i = 0; i < 5; i++) await ingest(`/a/${i}`);
    for (let i = 0; i < 2; i++) await ingest(`/b/${i}`);
    await waitCount("status=dead", 7);
    recorder.reply(() => ({ status: 200 }));

    expect(await api("POST", "/events/redeliver", { status: "dead", route: "a" })).toEqual({
      status: 200,
      json: { count: 5, skipped: 0, request_id: null },
    });
    await waitCount("status=delivered&route=a", 5);
    expect(await list("status=dead&route=b")).toHaveLength(2);
    expect((await api("POST", "/events/redeliver", { status: "dead" })).json).toMatchObject({ count: 2 });
    await waitCount("status=delivered", 7);
    expect(recorder.requests).toHaveLength(14);
    const stats = await getJson(`${server.adminUrl}/stats`);
    expect(stats.queue).toMatchObject({ pending: 0, delivered: 7, dead: 0 });
  });

  test("discarding deletes the event and its attempts and takes it out of the queue counts", async ({
    start,
  }) => {
    const { recorder, server, ingest, api, waitCount } = await open(start);
    recorder.reply(() => ({ status: 500 }));
    const id = await ingest("/a/hook");
    await waitCount("status=dead", 1);
    expect(await api("DELETE", `/events/${id}`)).toEqual({ status: 200, json: { id, discarded: true } });
    expect((await api<ErrorBody>("GET", `/events/${id}`)).status).toBe(404);
    expect((await api<ErrorBody>("DELETE", `/events/${id}`)).status).toBe(404);
    const stats = await getJson(`${server.adminUrl}/stats`);
    expect(stats.queue).toMatchObject({ pending: 0, dead: 0 });
  });

  test("discarding the head of an ordered queue lets the next event of its key go", async ({ start }) => {
    const { recorder, ingest, api, list } = await open(start, { schedule: "0s, 1h", ordering: "fifo" });
    recorder.reply(() => ({ status: 500 }));
    const first = await ingest("/a/1");
    const second = await ingest("/a/2");
    await waitFor(async () => (await list("status=pending"))[1]?.attempts === 1, 5_000, "first failure");
    expect(recorder.requests).toHaveLength(1);
    recorder.reply(() => ({ status: 200 }));
    expect((await api("DELETE", `/events/${first}`)).status).toBe(200);
    await waitFor(async () => (await list("status=delivered"))[0]?.id === second, 5_000, "the second event");
    expect(recorder.requests.map((r) => r.url)).toEqual(["/a/1", "/a/2"]);
  });

  test("answers JSON errors: 404 for unknown ids and routes, 409 while delivering, 400 for bad input", async ({
    start,
  }) => {
    const { recorder, ingest, api, waitCount } = await open(start);
    const expectError = async (
      method: string,
      path: string,
      status: number,
      code: string,
      body?: unknown,
    ) => {
      const res = await api<ErrorBody>(method, path, body);
      expect({ path, status: res.status, code: res.json.error?.code }).toEqual({ path, status, code });
      expect(res.json.error.message).toEqual(expect.any(String));
    };
    await expectError("GET", "/events/01NOPE", 404, "no_event");
    await expectError("POST", "/events/01NOPE/redeliver", 404, "no_event");
    await expectError("DELETE", "/events/01NOPE", 404, "no_event");
    await expectError("POST", "/routes/nope/pause", 404, "no_route");
    await expectError("GET", "/events?route=nope", 404, "no_route");
    for (const q of ["status=lost", "reason=bad", "limit=0", "limit=501", "cursor=abc", "since=yesterday"]) {
      await expectError("GET", `/events?${q}`, 400, "bad_query");
    }
    await expectError("POST", "/events/redeliver", 400, "bad_body", {});
    await expectError("POST", "/events/redeliver", 400, "bad_body", { status: "delivering" });
    await expectError("POST", "/events/redeliver", 400, "bad_body", { json: "events/0:x" });
    await expectError("POST", "/events/redeliver", 400, "bad_body", { status: "dead", dry_run: "yes" });
    await expectError("POST", "/events/redeliver", 400, "bad_body", { status: "dead", rout: "a" });
    await expectError("POST", "/events/redeliver", 400, "bad_body", "not json");

    recorder.reply(() => ({ status: 200, delayMs: 1_500 }));
    const id = await ingest("/a/slow");
    await waitCount("status=delivering", 1);
    await expectError("POST", `/events/${id}/redeliver`, 409, "delivering");
    await expectError("DELETE", `/events/${id}`, 409, "delivering");
  });

  test("pausing a route stops its delivery while ingest keeps storing; resuming delivers the backlog", async ({
    start,
  }) => {
    const { recorder, ingest, api, list, waitCount } = await open(start);
    expect(await api("POST", "/routes/a/pause")).toEqual({
      status: 200,
      json: { name: "a", state: "paused", disabled: null },
    });
    for (let i = 0; i < 3; i++) await ingest(`/a/${i}`);
    await ingest("/b/0");
    await waitCount("status=delivered&route=b", 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(recorder.requests.map((r) => r.url)).toEqual(["/b/0"]);
    expect(await list("status=pending&route=a")).toHaveLength(3);
    const routes = (await api<{ routes: RouteJson[] }>("GET", "/routes")).json.routes;
    expect(routes.map((r) => [r.name, r.state, r.queue.pending])).toEqual([
      ["a", "paused", 3],
      ["b", "active", 0],
    ]);

    expect((await api("POST", "/routes/a/resume")).json).toEqual({
      name: "a",
      state: "active",
      disabled: null,
    });
    await waitCount("status=delivered&route=a", 3);
    expect(recorder.requests).toHaveLength(4);
  });

  test("with an admin token, a missing or wrong token gets 401, the right one passes, /healthz stays open", async ({
    start,
  }) => {
    const { server, api } = await open(start, { token: "s3cret" });
    expect((await fetch(`${server.adminUrl}/events`)).status).toBe(401);
    const wrong = await fetch(`${server.adminUrl}/events`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as ErrorBody).error.code).toBe("unauthorized");
    expect((await fetch(`${server.adminUrl}/routes/a/pause`, { method: "POST" })).status).toBe(401);
    expect((await api("GET", "/events")).status).toBe(200);
    expect((await fetch(`${server.adminUrl}/healthz`)).status).toBe(200);
  });
});
