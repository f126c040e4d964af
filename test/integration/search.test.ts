import Database from "better-sqlite3";
import { describe, expect } from "vitest";
import type { EventJson, eventDetailJson, explainJson } from "../../src/admin/event-json.js";
import { type Start, test } from "../helpers/harness.js";
import { getJson, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";

type Page = { events: EventJson[]; next_cursor: string | null; explain: ReturnType<typeof explainJson> };
type Detail = ReturnType<typeof eventDetailJson>;
type ErrorBody = { error: { code: string; message: string } };

/** Routes a and b on one recorder; a path containing "fail" gets 500 (dead after one attempt). */
async function open(start: Start, extra: { yaml?: string[]; routeA?: string; dir?: string } = {}) {
  const recorder = await start.recorder();
  recorder.reply((req) => ({ status: req.url.includes("fail") ? 500 : 200, body: "thanks" }));
  const yaml = [
    `upstream: ${recorder.url}`,
    "delivery: {retry: {schedule: [0s]}, breaker: {failures: 0}}",
    ...(extra.yaml ?? []),
    "routes:",
    `  - {name: a, path: /a${extra.routeA ?? ""}}`,
    "  - {name: b, path: /b}",
  ].join("\n");
  const server = await start.hookbuffer({ yaml, ...(extra.dir ? { dir: extra.dir } : {}) });
  async function api<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: T; headers: Headers }> {
    const init: RequestInit = { method, headers: { "content-type": "application/json", ...headers } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(`${server.adminUrl}${path}`, init);
    return { status: res.status, json: (await res.json()) as T, headers: res.headers };
  }
  async function ingest(path: string, body: unknown, headers: Record<string, string> = {}) {
    const res = await post(
      `${server.ingestUrl}${path}`,
      typeof body === "string" ? body : JSON.stringify(body),
      headers,
    );
    expect(res.status).toBe(200);
    return res.json.id as string;
  }
  const page = async (query: string) => {
    const res = await api<Page>("GET", `/events?${query}`);
    expect(res.status).toBe(200);
    return res.json;
  };
  const ids = async (query: string) => (await page(query)).events.map((e) => e.id);
  const settled = (n: number) =>
    waitFor(
      async () =>
        isSettled((await getJson(`${server.adminUrl}/stats`)).queue) && (await ids("limit=500")).length === n,
      15_000,
      `${n} settled events`,
    );
  return { recorder, server, api, ingest, page, ids, settled };
}

const isSettled = (q: { pending: number; delivering: number }) => q.pending + q.delivering === 0;

const line = (userId: string, type = "message") => ({
  destination: "U0",
  events: [{ type, source: { type: "user", userId }, webhookEventId: `w-${userId}-${type}` }],
});

describe("searching events", () => {
  test("body pointers match by value, prefix and presence; numbers and booleans by their value; terms combine", async ({
    start,
  }) => {
    const { ingest, ids, settled } = await open(start);
    const u123 = await ingest("/a/hook", line("U123"));
    const u124 = await ingest("/a/hook", line("U124"));
    const u999 = await ingest("/a/hook", line("U999", "follow"));
    const num = await ingest("/a/hook", { order: { id: 42, paid: true, note: "50%*" } });
    const nullish = await ingest("/a/hook", { order: { id: null } });
    const text = await ingest("/a/hook", "not json at all");
    await settled(6);

    expect(await ids("json=/events/0/source/userId:U123")).toEqual([u123]);
    expect(await ids("json=/events/0/source/userId:U12*")).toEqual([u124, u123]);
    expect(await ids("json=/events/0/source/userId")).toEqual([u999, u124, u123]);
    expect(await ids("json=/events/0/source/userId:U12*&json=/events/0/type:message")).toEqual([u124, u123]);
    expect(await ids("json=/events/0/source/userId&json=/events/0/type:follow")).toEqual([u999]);
    expect(await ids("json=/order/id:42")).toEqual([num]);
    expect(await ids("json=/order/paid:true")).toEqual([num]);
    // Present and not null: an explicit null does not count.
    expect(await ids("json=/order/id")).toEqual([num]);
    // `:=` takes the rest literally, so a value may end in `*`.
    expect(await ids(`json=${encodeURIComponent("/order/note:=50%*")}`)).toEqual([num]);
    expect(await ids(`json=${encodeURIComponent("/order/note:50%*")}`)).toEqual([num]);
    expect(await ids("json=/events/0/source/userId:U1")).toEqual([]);
    expect([nullish, text].every(Boolean)).toBe(true);
  });

  test("headers (any case, equals/prefix/exists), path, attempts, last status, route and status filter too", async ({
    start,
  }) => {
    const { ingest, ids, settled } = await open(start);
    const push = await ingest("/a/gh", "{}", { "X-GitHub-Event": "push" });
    const pr = await ingest("/a/gh", "{}", { "x-github-event": "pull_request" });
    const plain = await ingest("/a/other", "{}");
    const failed = await ingest("/a/fail/1", "{}", { "X-GitHub-Event": "push" });
    const b = await ingest("/b/gh", "{}", { "X-GitHub-Event": "push" });
    await settled(5);

    expect(await ids("header=x-github-event:push")).toEqual([b, failed, push]);
    expect(await ids("header=X-GitHub-Event:pu*")).toEqual([b, failed, pr, push]);
    expect(await ids("header=x-github-event")).toEqual([b, failed, pr, push]);
    expect(await ids("header=x-github-event:push&route=a&status=delivered")).toEqual([push]);
    expect(await ids("path=/a/gh")).toEqual([pr, push]);
    expect(await ids("path=/a/*")).toEqual([failed, plain, pr, push]);
    expect(await ids("last_status=500")).toEqual([failed]);
    expect(await ids("status=dead&reason=error_status_code")).toEqual([failed]);
    expect(await ids("min_attempts=1&max_attempts=1&route=b")).toEqual([b]);
    expect(await ids("min_attempts=2")).toEqual([]);
  });

  test("a scan stops at its budget with a cursor that resumes; walking the cursors finds every match once", async ({
    start,
  }) => {
    const { ingest, page, settled } = await open(start);
    const want: string[] = [];
    for (let i = 0; i < 30; i++) {
      const id = await ingest("/a/hook", line(i % 3 === 0 ? "U1" : `U${i + 100}`));
      if (i % 3 === 0) want.push(id);
    }
    await settled(30);

    const first = await page("json=/events/0/source/userId:U1&scan_budget=4&limit=50");
    expect(first.explain).toMatchObject({ scan: true, index: null, rows_scanned: 4, partial: true });
    expect(first.explain.hint).toMatch(/scanned 4 rows, partial/);
    expect(first.next_cursor).not.toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const p: Page = await page(
        `json=/events/0/source/userId:U1&scan_budget=4&limit=3${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(p.events.length).toBeLessThanOrEqual(3);
      seen.push(...p.events.map((e) => e.id));
      cursor = p.next_cursor;
      pages++;
    } while (cursor !== null && pages < 100);
    expect(seen).toEqual([...want].reverse());

    // Without a budget problem the whole answer comes in one page, and says it scanned.
    const all = await page("json=/events/0/source/userId:U1&limit=50");
    expect(all.events.map((e) => e.id)).toEqual([...want].reverse());
    expect(all.explain).toMatchObject({ scan: true, partial: false });
    expect(all.next_cursor).toBeNull();
  });

  test("routes[].index builds an expression index at start that search uses, and drops it when removed", async ({
    start,
  }) => {
    const dir = start.dir();
    let s = await open(start, { routeA: ", index: [/events/0/source/userId]", dir });
    const u1 = await s.ingest("/a/hook", line("U1"));
    await s.ingest("/a/hook", line("U2"));
    const b1 = await s.ingest("/b/hook", line("U1"));
    await s.settled(3);
    const indexed = await s.page("json=/events/0/source/userId:U1&route=a");
    expect(indexed.events.map((e) => e.id)).toEqual([u1]);
    expect(indexed.explain).toMatchObject({ scan: false, rows_scanned: null, partial: false });
    expect(indexed.explain.index).toMatch(/^events_json_a_[0-9a-f]{12}$/);
    expect(indexed.explain.hint).toBe(`uses index ${indexed.explain.index}`);
    // Route b has no index on the pointer: the same search there scans.
    const scanned = await s.page("json=/events/0/source/userId:U1&route=b");
    expect(scanned.events.map((e) => e.id)).toEqual([b1]);
    expect(scanned.explain.scan).toBe(true);
    // A prefix search seeks the index too.
    const prefix = await s.page("json=/events/0/source/userId:U*&route=a&limit=1");
    expect(prefix.explain.index).toBe(indexed.explain.index);

    const names = () => {
      const db = new Database(s.server.dbPath, { readonly: true });
      try {
        return db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'events_json%'")
          .pluck()
          .all();
      } finally {
        db.close();
      }
    };
    expect(names()).toEqual([indexed.explain.index]);
    await s.server.stop();
    s = await open(start, { dir });
    expect(names()).toEqual([]);
    expect((await s.page("json=/events/0/source/userId:U1&route=a")).explain.scan).toBe(true);
  });

  test("bad terms and values get 400 with a message naming the problem", async ({ start }) => {
    const { api } = await open(start);
    for (const q of [
      "json=events/0",
      `json=${encodeURIComponent('/a"b:1')}`,
      "header=bad%20name:1",
      "path=nope",
      "min_attempts=-1",
      "last_status=42",
      "scan_budget=0",
    ]) {
      const res = await api<ErrorBody>("GET", `/events?${q}`);
      expect({ q, status: res.status, code: res.json.error.code }).toEqual({
        q,
        status: 400,
        code: "bad_query",
      });
      expect(res.json.error.message.length).toBeGreaterThan(10);
    }
  });
});

describe("bulk redelivery by filter", () => {
  test("a dry run counts and lists the first ids and changes nothing; the run redelivers and records each in the history", async ({
    start,
  }) => {
    const { recorder, ingest, api, ids, settled } = await open(start);
    const dead: string[] = [];
    for (let i = 0; i < 4; i++) dead.push(await ingest("/a/fail", line("U123")));
    await ingest("/a/fail", line("U555"));
    await ingest("/a/ok", line("U123"));
    await settled(6);
    const before = recorder.requests.length;
    const filter = { status: "dead", json: ["/events/0/source/userId:U123"] };

    const dry = await api<{ dry_run: boolean; count: number; ids: string[]; max: number }>(
      "POST",
      "/events/redeliver",
      { ...filter, dry_run: true, sample: 3 },
    );
    expect(dry.json).toEqual({
      dry_run: true,
      count: 4,
      ids: dead.slice(1).reverse(),
      max: 10_000,
      over_max: false,
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(recorder.requests.length).toBe(before);
    expect(await ids("status=dead")).toHaveLength(5);

    recorder.reply(() => ({ status: 200 }));
    const run = await api("POST", "/events/redeliver", filter, { "Idempotency-Key": "op-1" });
    expect(run.json).toEqual({ count: 4, skipped: 0, request_id: "op-1" });
    await waitFor(async () => (await ids("status=delivered")).length === 5, 15_000, "the four redelivered");
    expect(await ids("status=dead")).toHaveLength(1);
    expect(recorder.requests.length).toBe(before + 4);
    const detail = (await api<Detail>("GET", `/events/${dead[0]}`)).json;
    expect(detail.history).toEqual([
      { at: expect.stringMatching(/Z$/), action: "redeliver", request_id: "op-1" },
    ]);

    // The same key again: the first answer, nothing redelivered twice.
    const again = await api("POST", "/events/redeliver", { ...filter, request_id: "op-1" });
    expect(again.json).toEqual(run.json);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    await new Promise((r) => setTimeout(r, 300));
    expect(recorder.requests.length).toBe(before + 4);
    // The same key with another filter is refused.
    const reused = await api<ErrorBody>(
      "POST",
      "/events/redeliver",
      { status: "dead" },
      { "Idempotency-Key": "op-1" },
    );
    expect(reused.status).toBe(422);
    expect(reused.json.error.code).toBe("request_id_reused");
  });

  test("more matches than admin.redeliver_max is refused with the count and changes nothing", async ({
    start,
  }) => {
    const { recorder, ingest, api, ids, settled } = await open(start, {
      yaml: ["admin: {redeliver_max: 2}"],
    });
    for (let i = 0; i < 3; i++) await ingest("/a/fail", line("U1"));
    await settled(3);
    const before = recorder.requests.length;
    const res = await api<ErrorBody>("POST", "/events/redeliver", { json: "/events/0/source/userId:U1" });
    expect(res.status).toBe(422);
    expect(res.json.error).toEqual({
      code: "too_many",
      message: expect.stringMatching(
        /^3 events match; one request redelivers at most 2 \(admin\.redeliver_max\)/,
      ),
    });
    const dry = await api<{ over_max: boolean }>("POST", "/events/redeliver", {
      json: "/events/0/source/userId:U1",
      dry_run: true,
    });
    expect(dry.json).toMatchObject({ count: 3, over_max: true, max: 2 });
    await new Promise((r) => setTimeout(r, 200));
    expect(recorder.requests.length).toBe(before);
    expect(await ids("status=dead")).toHaveLength(3);
    const empty = await api<ErrorBody>("POST", "/events/redeliver", {});
    expect([empty.status, empty.json.error.code]).toEqual([400, "bad_body"]);
  });
});

describe("upstream responses kept per attempt", () => {
  test("a pending event's stored response bytes count toward the open bytes that storage.max_bytes limits", async ({
    start,
    up,
  }) => {
    const recorder = up;
    recorder.reply(() => ({ status: 500, body: "x".repeat(100) }));
    const server = await start.hookbuffer({
      yaml: [
        `upstream: ${recorder.url}`,
        "delivery: {retry: {schedule: [0s, 1h]}, breaker: {failures: 0}}",
      ].join("\n"),
    });
    const res = await post(`${server.ingestUrl}/hook`, "0123456789");
    expect(res.status).toBe(200);
    await waitFor(() => recorder.requests.length === 1, 5_000, "the first attempt");
    await waitFor(
      async () => (await getJson(`${server.adminUrl}/stats`)).queue.delivering === 0,
      5_000,
      "the attempt recorded",
    );
    expect((await getJson(`${server.adminUrl}/stats`)).queue).toMatchObject({ pending: 1, open_bytes: 110 });
  });
});
