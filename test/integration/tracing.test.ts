import { randomBytes } from "node:crypto";
import { request } from "undici";
import { describe, expect } from "vitest";
import { test } from "../helpers/harness.js";
import { waitFor } from "../helpers/hookbuffer.js";
import {
  type OtlpReceiver,
  type ReceivedSpan,
  SPAN_KIND_CLIENT,
  SPAN_KIND_SERVER,
  STATUS_ERROR,
} from "../helpers/otlp-receiver.js";
import { post } from "../helpers/post.js";
import { header, type Recorded } from "../helpers/recorder.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

/** traceparent fields of a recorded request. */
function traceparentOf(rec: Recorded) {
  const value = header(rec, "traceparent");
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value ?? "");
  if (!m) throw new Error(`no valid traceparent on the replay: ${value}`);
  return { traceId: m[1] as string, spanId: m[2] as string, flags: m[3] as string };
}

const tracingYaml = (upstream: string, receiver: OtlpReceiver, extra = "") =>
  `upstream: ${upstream}
tracing:
  otlp_endpoint: ${receiver.url}
  service_name: hookbuffer-test
delivery:
  retry: {schedule: [0s, 50ms, 50ms]}
${extra}`;

const byKind = (spans: ReceivedSpan[], kind: number) => spans.filter((s) => s.kind === kind);

describe("tracing", () => {
  test("continues the incoming trace; the bot's traceparent names the attempt span the collector received", async ({
    start,
    up,
  }) => {
    const otlp = await start.otlp();
    const hb = await start.hookbuffer({ yaml: tracingYaml(up.url, otlp) });
    const body = randomBytes(700);
    const ack = await post(`${hb.ingestUrl}/hooks/x`, body, {
      traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`,
      tracestate: "vendor=abc,other=1",
    });
    expect(ack.status).toBe(200);
    await waitFor(() => up.requests.length === 1, 10_000, "the replay");
    const detail = await (await request(`${hb.adminUrl}/events/${ack.json.id}`)).body.json();
    await hb.stop();

    const rec = up.requests[0] as Recorded;
    expect(rec.body.equals(body)).toBe(true);
    const sent = traceparentOf(rec);
    expect(sent.traceId).toBe(TRACE_ID);
    expect(sent.flags).toBe("01");
    expect(header(rec, "tracestate")).toBe("vendor=abc,other=1");
    // The original traceparent was replaced, not duplicated.
    expect(rec.headers.filter(([k]) => k.toLowerCase() === "traceparent")).toHaveLength(1);

    const [ingest, ...moreIngest] = byKind(otlp.spans, SPAN_KIND_SERVER);
    const [attempt, ...moreAttempts] = byKind(otlp.spans, SPAN_KIND_CLIENT);
    expect(moreIngest).toHaveLength(0);
    expect(moreAttempts).toHaveLength(0);
    if (!ingest || !attempt) throw new Error("expected an ingest and an attempt span");
    expect(otlp.contentTypes.every((t) => t.startsWith("application/json"))).toBe(true);

    expect(ingest).toMatchObject({
      traceId: TRACE_ID,
      parentSpanId: CALLER_SPAN,
      name: "ingest default",
      traceState: "vendor=abc,other=1",
      attributes: {
        "hookbuffer.route": "default",
        "hookbuffer.event.id": ack.json.id,
        "hookbuffer.result": "accepted",
        "http.response.status_code": 200,
        "http.request.method": "POST",
        "url.path": "/hooks/x",
      },
      resource: { "service.name": "hookbuffer-test" },
    });
    expect(ingest.status.code).not.toBe(STATUS_ERROR);
    // The event detail names its trace, and keeps the provider's traceparent among the headers.
    expect(detail).toMatchObject({
      trace: { trace_id: TRACE_ID, ingest_span_id: ingest.spanId, sampled: true },
      headers: expect.arrayContaining([["traceparent", `00-${TRACE_ID}-${CALLER_SPAN}-01`]]),
    });

    expect(attempt).toMatchObject({
      traceId: TRACE_ID,
      spanId: sent.spanId,
      parentSpanId: ingest.spanId,
      name: "deliver default",
      attributes: {
        "hookbuffer.route": "default",
        "hookbuffer.event.id": ack.json.id,
        "hookbuffer.attempt": 1,
        "hookbuffer.result": "delivered",
        "http.response.status_code": 200,
        "server.address": "127.0.0.1",
        "server.port": up.port,
      },
    });
    expect(attempt.status.code).not.toBe(STATUS_ERROR);
    // The span covers the real request: the bot saw it between the span's start and end (ms clock).
    expect(attempt.startMs).toBeLessThanOrEqual(rec.at);
    expect(attempt.endMs).toBeGreaterThanOrEqual(rec.at - 1);
    expect(attempt.startMs).toBeGreaterThanOrEqual(ingest.startMs - 1);
  });

  test("a retried event gets one attempt span per attempt in one trace, failures marked as errors", async ({
    start,
    up,
  }) => {
    up.reply((_req, n) => (n === 1 ? { status: 500 } : { status: 204 }));
    const otlp = await start.otlp();
    const hb = await start.hookbuffer({ yaml: tracingYaml(up.url, otlp) });
    const ack = await post(hb.ingestUrl, Buffer.from('{"n":1}'));
    expect(ack.status).toBe(200);
    await waitFor(() => up.requests.length === 2, 10_000, "the retry");
    await waitFor(async () => {
      const res = await request(`${hb.adminUrl}/events/${ack.json.id}`);
      return ((await res.body.json()) as { status?: string }).status === "delivered";
    });
    await hb.stop();

    const sent = up.requests.map(traceparentOf);
    const [ingest] = byKind(otlp.spans, SPAN_KIND_SERVER);
    if (!ingest) throw new Error("no ingest span");
    // No traceparent came in: hookbuffer started the trace.
    expect(ingest.parentSpanId).toBe("");
    expect(sent.map((s) => s.traceId)).toEqual([ingest.traceId, ingest.traceId]);
    expect(new Set(sent.map((s) => s.spanId)).size).toBe(2);

    const attempts = byKind(otlp.spans, SPAN_KIND_CLIENT).sort(
      (a, b) => Number(a.attributes["hookbuffer.attempt"]) - Number(b.attributes["hookbuffer.attempt"]),
    );
    expect(attempts.map((s) => [s.traceId, s.parentSpanId, s.spanId])).toEqual([
      [ingest.traceId, ingest.spanId, sent[0]?.spanId],
      [ingest.traceId, ingest.spanId, sent[1]?.spanId],
    ]);
    const [first, second] = attempts as [ReceivedSpan, ReceivedSpan];
    expect(first.attributes).toMatchObject({
      "hookbuffer.attempt": 1,
      "hookbuffer.result": "retry",
      "hookbuffer.reason": "error_status_code",
      "hookbuffer.detail": "500",
      "http.response.status_code": 500,
      "error.type": "500",
    });
    expect(first.status).toEqual({ code: STATUS_ERROR, message: "error_status_code: 500" });
    expect(second.attributes).toMatchObject({
      "hookbuffer.attempt": 2,
      "hookbuffer.result": "delivered",
      "http.response.status_code": 204,
    });
    expect(second.status.code).not.toBe(STATUS_ERROR);
    expect(second.startMs).toBeGreaterThanOrEqual(first.endMs);
  });

  test("a replay after a restart continues the trace stored at ingest", async ({ start, up }) => {
    const dir = start.dir();
    const otlp = await start.otlp();
    const yaml = tracingYaml(up.url, otlp);
    let hb = await start.hookbuffer({ yaml, dir });
    const paused = await request(`${hb.adminUrl}/routes/default/pause`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    expect(paused.statusCode).toBe(200);
    await paused.body.dump();
    const ack = await post(hb.ingestUrl, Buffer.from("stored before the restart"), {
      traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`,
    });
    expect(ack.status).toBe(200);
    await hb.stop();
    const [ingest] = byKind(otlp.spans, SPAN_KIND_SERVER);
    if (!ingest) throw new Error("no ingest span from the first run");
    expect(up.requests).toHaveLength(0);

    hb = await start.hookbuffer({ yaml, dir });
    const resumed = await request(`${hb.adminUrl}/routes/default/resume`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    expect(resumed.statusCode).toBe(200);
    await resumed.body.dump();
    await waitFor(() => up.requests.length === 1, 10_000, "the replay after the restart");
    await hb.stop();

    const sent = traceparentOf(up.requests[0] as Recorded);
    const [attempt] = byKind(otlp.spans, SPAN_KIND_CLIENT);
    expect(sent.traceId).toBe(TRACE_ID);
    expect(attempt).toMatchObject({
      traceId: TRACE_ID,
      parentSpanId: ingest.spanId,
      spanId: sent.spanId,
      attributes: { "hookbuffer.event.id": ack.json.id, "hookbuffer.attempt": 1 },
    });
  });

  test("an unsampled caller: the bot gets a traceparent with flags 00 and nothing is exported", async ({
    start,
    up,
  }) => {
    const otlp = await start.otlp();
    const hb = await start.hookbuffer({ yaml: tracingYaml(up.url, otlp) });
    await post(hb.ingestUrl, Buffer.from("x"), { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-00` });
    await waitFor(() => up.requests.length === 1, 10_000, "the replay");
    await hb.stop();
    const sent = traceparentOf(up.requests[0] as Recorded);
    expect(sent).toMatchObject({ traceId: TRACE_ID, flags: "00" });
    expect(sent.spanId).not.toBe(CALLER_SPAN);
    expect(otlp.spans).toHaveLength(0);
  });

  test("a refused webhook has an ingest span marked as an error with its status", async ({ start, up }) => {
    const otlp = await start.otlp();
    const yaml = tracingYaml(up.url, otlp, "verify: {scheme: github, secret: s3cret}\n");
    const hb = await start.hookbuffer({ yaml });
    const ack = await post(hb.ingestUrl, Buffer.from("{}"), { "x-hub-signature-256": "sha256=00" });
    expect(ack.status).toBe(401);
    await hb.stop();
    const [ingest] = byKind(otlp.spans, SPAN_KIND_SERVER);
    expect(ingest?.attributes).toMatchObject({
      "http.response.status_code": 401,
      "hookbuffer.result": "rejected",
    });
    expect(ingest?.status.code).toBe(STATUS_ERROR);
    expect(ingest?.status.message).toMatch(/^malformed_signature|^bad_signature/);
  });

  test("off by default: headers are replayed as received and nothing is exported", async ({ start, up }) => {
    const otlp = await start.otlp();
    const hb = await start.hookbuffer({ yaml: `upstream: ${up.url}\n` });
    expect(hb.config.tracing).toBeNull();
    const incoming = `00-${TRACE_ID}-${CALLER_SPAN}-01`;
    await post(hb.ingestUrl, Buffer.from("a"), { traceparent: incoming, tracestate: "vendor=abc" });
    await post(hb.ingestUrl, Buffer.from("b"));
    await waitFor(() => up.requests.length === 2, 10_000, "the replays");
    const listed = (await (await request(`${hb.adminUrl}/events?limit=1`)).body.json()) as {
      events: Array<{ id: string }>;
    };
    const detail = await (await request(`${hb.adminUrl}/events/${listed.events[0]?.id}`)).body.json();
    expect(detail).toMatchObject({ trace: null });
    await hb.stop();
    const [a, b] = [...up.requests].sort((x, y) => x.body.compare(y.body)) as [Recorded, Recorded];
    expect(header(a, "traceparent")).toBe(incoming);
    expect(header(a, "tracestate")).toBe("vendor=abc");
    expect(header(b, "traceparent")).toBeUndefined();
    expect(otlp.requests).toBe(0);
  });
});
