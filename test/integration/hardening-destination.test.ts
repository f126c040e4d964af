import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startHookbuffer, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { rawRequest, statusOf } from "../helpers/raw.js";
import { header, type Recorder, startRecorder } from "../helpers/recorder.js";

// Upstreams come only from config (docs/security.md#destinations-come-only-from-config): nothing in the request line or headers may steer a
// delivery or a passthrough elsewhere. "evil" is a real server, so any leak would be recorded.
let hb: TestHookbuffer;
let up: Recorder;
let evil: Recorder;
let port: number;
let evilHost: string;
beforeAll(async () => {
  up = await startRecorder();
  evil = await startRecorder();
  evilHost = `127.0.0.1:${evil.port}`;
  hb = await startHookbuffer({
    yaml: `upstream: ${up.url}
routes:
  - name: based
    path: /r
    upstream: ${up.url}/base
  - name: default
    path: /
`,
  });
  port = hb.running.ingest.port;
});
afterAll(async () => {
  await hb?.stop();
  await up?.close();
  await evil?.close();
});

const post = (target: string, extra: string[] = [], host = evilHost) =>
  rawRequest(port, [`POST ${target} HTTP/1.1`, `Host: ${host}`, ...extra, "Content-Length: 2"], "{}");

describe("destination pinning", () => {
  // EVIL stands for the evil server's host:port, filled in once it listens.
  test.each<[string, string, string]>([
    ["an absolute-form request target", "http://EVIL/abs?q=1", "/abs?q=1"],
    ["an absolute-form target with userinfo", "http://u:p@EVIL/userinfo", "/userinfo"],
    ["an @-authority lookalike", "/@EVIL/at", "/@EVIL/at"],
    ["an absolute-form target on a route whose upstream has a path", "http://EVIL/r/x", "/base/x"],
  ])("%s is delivered to the configured upstream only", async (_what, rawTarget, expectedUrl) => {
    const target = () => rawTarget.replace("EVIL", evilHost);
    const expected = expectedUrl.replace("EVIL", evilHost);
    const res = await post(target());
    expect(statusOf(res)).toBe(200);
    const got = await waitFor(
      () => up.requests.find((r) => r.url === expected),
      5_000,
      `delivery of ${expected}`,
    );
    expect(header(got, "host")).toBe(`127.0.0.1:${up.port}`);
  });

  // Paths not in normal form are refused outright (hardening-ingest covers why), so they go nowhere.
  test.each([
    ["a path that looks like a network-path reference", "//EVIL/x"],
    ["an encoded dot-dot path", "/..%2f..%2fx"],
    ["a raw dot-dot path", "/a/../../b"],
  ])("%s is refused with 400 and sent nowhere", async (_what, rawTarget) => {
    const res = await post(rawTarget.replace("EVIL", evilHost));
    expect(statusOf(res)).toBe(400);
    expect(res).toContain('"bad_path"');
  });

  test("Host, X-Forwarded-Host, X-Forwarded-Proto and Forwarded do not move the delivery", async () => {
    const res = await post("/forwarded", [
      `X-Forwarded-Host: ${evilHost}`,
      "X-Forwarded-Proto: https",
      `Forwarded: host=${evilHost};proto=http`,
    ]);
    expect(statusOf(res)).toBe(200);
    const got = await waitFor(() => up.requests.find((r) => r.url === "/forwarded"), 5_000, "delivery");
    expect(header(got, "host")).toBe(`127.0.0.1:${up.port}`);
  });

  test("a passthrough GET with an absolute-form target goes to the configured upstream", async () => {
    const res = await rawRequest(port, [
      `GET http://${evilHost}/handshake?hub.challenge=7 HTTP/1.1`,
      `Host: ${evilHost}`,
    ]);
    expect(statusOf(res)).toBe(200);
    expect(up.requests.some((r) => r.method === "GET" && r.url === "/handshake?hub.challenge=7")).toBe(true);
  });

  test("CONNECT is not tunnelled anywhere", async () => {
    const res = await rawRequest(port, [`CONNECT ${evilHost} HTTP/1.1`, `Host: ${evilHost}`]);
    expect(statusOf(res)).not.toBe(200);
  });

  test("the evil server saw nothing at all", async () => {
    // Every delivery above has been observed at the real upstream; give stragglers a moment.
    await new Promise((r) => setTimeout(r, 200));
    expect(evil.requests).toEqual([]);
  });
});
