import { createHmac } from "node:crypto";
import { request } from "undici";
import { describe, expect } from "vitest";
import { type Start, test } from "../helpers/harness.js";
import { getJson, waitFor } from "../helpers/hookbuffer.js";
import { postJson as post } from "../helpers/post.js";
import { parseExposition } from "../helpers/prom-text.js";
import { header } from "../helpers/recorder.js";

/**
 * A "slack" route whose url_verification handshakes pass through to an upstream that answers with
 * the challenge; `extra` adds lines to the route.
 */
async function slackHandshakes(start: Start, extra = "") {
  const up = await start.recorder();
  up.reply((req) => ({ status: 200, body: JSON.parse(req.body.toString()).challenge ?? "ok" }));
  const hb = await start.hookbuffer({
    yaml: `
routes:
  - name: slack
    path: /slack
    upstream: ${up.url}
    passthrough: [{json: {pointer: /type, equals: url_verification}}]${extra}
`,
  });
  return { up, hb };
}

describe("named routes", () => {
  test("match the longest path prefix, deliver to their own upstream, and 404 unmatched paths", async ({
    start,
  }) => {
    const line = await start.recorder();
    const github = await start.recorder();
    const lineV2 = await start.recorder();
    const hb = await start.hookbuffer({
      yaml: `
routes:
  - {name: line, path: /line, upstream: "${line.url}/callback"}
  - {name: line-v2, path: /line/v2, upstream: "${lineV2.url}"}
  - {name: github, path: /github, upstream: "${github.url}"}
`,
    });
    expect((await post(`${hb.ingestUrl}/line?x=1`, "{}")).status).toBe(200);
    expect((await post(`${hb.ingestUrl}/line/v2/hook`, "{}")).status).toBe(200);
    expect((await post(`${hb.ingestUrl}/github`, "{}")).status).toBe(200);
    const miss = await post(`${hb.ingestUrl}/linex`, "{}");
    expect(miss.status).toBe(404);
    expect(miss.json).toEqual({ error: { code: "no_route", message: expect.any(String) } });
    await waitFor(
      () => line.requests.length && lineV2.requests.length && github.requests.length,
      5_000,
      "deliveries",
    );
    expect(line.requests.map((r) => r.url)).toEqual(["/callback?x=1"]);
    expect(lineV2.requests.map((r) => r.url)).toEqual(["/line/v2/hook"]);
    expect(github.requests.map((r) => r.url)).toEqual(["/github"]);
    const stats = await getJson(`${hb.adminUrl}/stats?route=line`);
    expect(stats.totals.received).toBe(1);
    expect(stats.routes.map((r) => r.name)).toEqual(["line"]);
    expect((await getJson(`${hb.adminUrl}/stats`)).totals.received).toBe(3);
  });

  test("permanent statuses dead-letter at once; other failures are retried", async ({ start, up }) => {
    up.reply((req) => ({
      status: req.url === "/gone" ? 410 : req.url === "/flaky" && up.requests.length < 3 ? 500 : 200,
    }));
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}\ndelivery: {permanent_statuses: [400, 410], retry: {schedule: [0s, 50ms, 50ms, 50ms]}}\n`,
    });
    await post(`${hb.ingestUrl}/gone`, "{}");
    await post(`${hb.ingestUrl}/flaky`, "{}");
    const stats = await waitFor(async () => {
      const s = await getJson(`${hb.adminUrl}/stats`);
      return s.totals.dead === 1 && s.totals.delivered === 1 ? s : undefined;
    });
    expect(up.requests.filter((r) => r.url === "/gone")).toHaveLength(1);
    expect(stats.queue).toMatchObject({ dead: 1, delivered: 1, pending: 0 });
  });
});

describe("handshake passthrough", () => {
  test("GET is proxied synchronously (Meta's hub.challenge) and neither stored nor counted", async ({
    start,
    up,
  }) => {
    up.reply((req) => ({
      status: 200,
      headers: { "content-type": "text/plain", "x-upstream": "yes" },
      body: new URL(req.url, "http://x").searchParams.get("hub.challenge") ?? "",
    }));
    const hb = await start.hookbuffer({ yaml: `upstream: ${up.url}\n` });
    const res = await request(`${hb.ingestUrl}/webhook?hub.mode=subscribe&hub.challenge=1158201444`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["x-upstream"]).toBe("yes");
    expect(await res.body.text()).toBe("1158201444");
    const stats = await getJson(`${hb.adminUrl}/stats`);
    expect(stats.totals).toMatchObject({ received: 0, failed_attempts: 0 });
  });

  test("a route's JSON match passes Slack's url_verification through; other POSTs are buffered", async ({
    start,
  }) => {
    const { hb } = await slackHandshakes(start);
    const res = await request(`${hb.ingestUrl}/slack/events`, {
      method: "POST",
      body: JSON.stringify({
        type: "url_verification",
        challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
      }),
    });
    expect(await res.body.text()).toBe("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    const buffered = await post(`${hb.ingestUrl}/slack/events`, JSON.stringify({ type: "event_callback" }));
    expect(buffered.json.status).toBe("accepted");
    const stats = await getJson(`${hb.adminUrl}/stats`);
    expect(stats.totals.received).toBe(1);
  });

  test("on a route with verify:, a matched handshake is checked like a webhook: unsigned is 401 and goes nowhere", async ({
    start,
  }) => {
    const secret = "8f742231b10e8888abcd99yyyzzz85a5";
    const { up, hb } = await slackHandshakes(start, `\n    verify: {scheme: slack, secret: ${secret}}`);
    const body = JSON.stringify({ type: "url_verification", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY" });

    const forged = await request(`${hb.ingestUrl}/slack/events`, { method: "POST", body });
    expect(forged.statusCode).toBe(401);
    expect(await forged.body.json()).toEqual({
      error: { code: expect.any(String), message: expect.any(String) },
    });
    expect(up.requests).toHaveLength(0);

    const ts = String(Math.floor(Date.now() / 1000));
    const signature = `v0=${createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex")}`;
    const signed = await request(`${hb.ingestUrl}/slack/events`, {
      method: "POST",
      body,
      headers: { "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature },
    });
    expect(signed.statusCode).toBe(200);
    expect(await signed.body.text()).toBe("3eZbrw1aBm2rZgRNFdxV2595E9CY");
    expect(up.requests).toHaveLength(1);
    const [proxied] = up.requests;
    expect(proxied && header(proxied, "x-hookbuffer-verified")).toBe("slack");

    const stats = await waitFor(
      async () => {
        const s = await getJson(`${hb.adminUrl}/stats`);
        return s.totals.rejected === 1 && s;
      },
      5_000,
      "rejected handshake counted",
    );
    expect(stats.totals.received).toBe(0);
    const metrics = parseExposition(await (await request(`${hb.adminUrl}/metrics`)).body.text());
    expect(metrics.value("hookbuffer_rejected_total", { route: "slack", kind: "signature" })).toBe(1);
  });

  test("verify: false on a match proxies a provider's unsigned handshake on a verified route", async ({
    start,
    up,
  }) => {
    up.reply((req) => ({
      status: 200,
      body: new URL(req.url, "http://x").searchParams.get("validationToken") ?? "",
    }));
    const hb = await start.hookbuffer({
      yaml: `
routes:
  - name: graph
    path: /graph
    upstream: ${up.url}
    verify: {scheme: hmac, secret: s3cret, header: X-Signature}
    passthrough: [{method: POST, path: /validate, verify: false}]
`,
    });
    const res = await request(`${hb.ingestUrl}/graph/validate?validationToken=abc123`, {
      method: "POST",
      body: "",
    });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe("abc123");
    const [unsigned] = up.requests;
    expect(unsigned).toBeDefined();
    expect(unsigned && header(unsigned, "x-hookbuffer-verified")).toBeUndefined();
    // The opt-out covers only that match: another unsigned POST is still refused.
    const other = await post(`${hb.ingestUrl}/graph/notify`, "{}");
    expect(other.status).toBe(401);
  });

  test("a header match passes GitHub's signed ping through, whatever its zen; other events are buffered", async ({
    start,
    up,
  }) => {
    const secret = "It's a Secret to Everybody";
    up.reply((req) => ({ status: header(req, "x-github-event") === "ping" ? 204 : 200 }));
    const hb = await start.hookbuffer({
      yaml: `
routes:
  - name: github
    path: /github
    upstream: ${up.url}
    verify: {scheme: github, secret: "${secret}"}
    passthrough: [{header: {name: X-GitHub-Event, equals: ping}}]
`,
    });
    const signed = (body: string, event: string) => ({
      "X-GitHub-Event": event,
      "X-Hub-Signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    });
    // zen is a random phrase, so only the header tells a ping.
    const ping = JSON.stringify({ zen: "Design for failure.", hook_id: 1 });
    const res = await request(`${hb.ingestUrl}/github/hooks`, {
      method: "POST",
      body: ping,
      headers: { "content-type": "application/json", ...signed(ping, "ping") },
    });
    expect(res.statusCode).toBe(204);
    await res.body.dump();
    expect(up.requests).toHaveLength(1);
    expect(up.requests[0] && header(up.requests[0], "x-hookbuffer-verified")).toBe("github");
    // A forged ping is refused like any webhook.
    const forged = await post(`${hb.ingestUrl}/github/hooks`, ping, { "X-GitHub-Event": "ping" });
    expect(forged.status).toBe(401);

    const push = JSON.stringify({ ref: "refs/heads/main", zen: "ping" });
    const buffered = await post(`${hb.ingestUrl}/github/hooks`, push, signed(push, "push"));
    expect(buffered.json.status).toBe("accepted");
    // Values are compared exactly.
    const upper = await post(`${hb.ingestUrl}/github/hooks`, ping, signed(ping, "PING"));
    expect(upper.json.status).toBe("accepted");
    const stats = await getJson(`${hb.adminUrl}/stats`);
    expect(stats.totals.received).toBe(2);
  });

  test("an unreachable upstream answers the handshake with 502 JSON", async ({ start }) => {
    const hb = await start.hookbuffer({ yaml: "upstream: http://127.0.0.1:1\ndelivery: {timeout: 1s}\n" });
    const res = await request(`${hb.ingestUrl}/webhook`);
    expect(res.statusCode).toBe(502);
    expect(await res.body.json()).toEqual({ error: { code: "bad_gateway", message: expect.any(String) } });
  });
});

describe("dedup", () => {
  test("LINE's preset uses the whole set of webhookEventIds; a duplicate gets the original id", async ({
    start,
    up,
  }) => {
    const hb = await start.hookbuffer({ yaml: `upstream: ${up.url}\ndelivery: {dedup: line}\n` });
    const body = (ids: string[]) =>
      JSON.stringify({
        destination: "U1",
        events: ids.map((webhookEventId) => ({ type: "message", webhookEventId })),
      });
    const first = await post(`${hb.ingestUrl}/callback`, body(["01A", "01B"]));
    const again = await post(`${hb.ingestUrl}/callback`, body(["01B", "01A"]));
    const other = await post(`${hb.ingestUrl}/callback`, body(["01A"]));
    expect(first.json.status).toBe("accepted");
    expect(again.json).toEqual({ status: "duplicate", id: first.json.id });
    expect(other.json.status).toBe("accepted");
    await waitFor(() => up.requests.length >= 2, 5_000, "deliveries");
    const stats = await getJson(`${hb.adminUrl}/stats`);
    expect(stats.totals).toMatchObject({ received: 2, duplicates: 1 });
    expect(new Set(up.requests.map((r) => header(r, "x-hookbuffer-event-id"))).size).toBe(2);
  });

  test("a header key dedups within the window only", async ({ start, up }) => {
    const hb = await start.hookbuffer({
      yaml: `upstream: ${up.url}\ndelivery: {dedup: {header: X-GitHub-Delivery, window: 300ms}}\n`,
    });
    const a = await post(`${hb.ingestUrl}/gh`, "{}", { "X-GitHub-Delivery": "d-1" });
    const b = await post(`${hb.ingestUrl}/gh`, "{}", { "x-github-delivery": "d-1" });
    expect(b.json).toEqual({ status: "duplicate", id: a.json.id });
    await new Promise((r) => setTimeout(r, 350));
    const c = await post(`${hb.ingestUrl}/gh`, "{}", { "X-GitHub-Delivery": "d-1" });
    expect(c.json.status).toBe("accepted");
    expect(c.json.id).not.toBe(a.json.id);
  });
});
