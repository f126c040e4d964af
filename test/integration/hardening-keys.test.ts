import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { getJson, startHookbuffer, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { postJson } from "../helpers/post.js";
import { type Recorder, startRecorder } from "../helpers/recorder.js";

let hb: TestHookbuffer;
let up: Recorder;
beforeAll(async () => {
  up = await startRecorder();
  hb = await startHookbuffer({
    yaml: `upstream: ${up.url}
listen:
  body_limit: 1mb
routes:
  - name: dedup
    path: /dedup
    delivery: {dedup: {json: /id}}
  - name: ordered
    path: /ordered
    delivery: {ordering: {key: /user}}
`,
  });
});
afterAll(async () => {
  await hb?.stop();
  await up?.close();
});

const post = (path: string, body: string) => postJson(`${hb.ingestUrl}${path}`, body);

describe("dedup keys keep JSON types apart", () => {
  test('1 and "1" are different ids; the same id twice is a duplicate', async () => {
    const number = await post("/dedup", '{"id":1}');
    const string = await post("/dedup", '{"id":"1"}');
    expect(number.json.status).toBe("accepted");
    expect(string.json.status).toBe("accepted");
    expect(string.json.id).not.toBe(number.json.id);
    expect((await post("/dedup", '{"id":1}')).json).toEqual({ status: "duplicate", id: number.json.id });
    expect((await post("/dedup", '{"id":"1"}')).json).toEqual({ status: "duplicate", id: string.json.id });
    // A string that looks like the typed form of a number is yet another id.
    expect((await post("/dedup", '{"id":"json:1"}')).json.status).toBe("accepted");
    expect((await post("/dedup", '{"id":true}')).json.status).toBe("accepted");
    expect((await post("/dedup", '{"id":"true"}')).json.status).toBe("accepted");
  });
});

describe("a key nested 100,000 levels deep", () => {
  const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;

  test.each([
    ["/dedup", "id"],
    ["/ordered", "user"],
  ])("on %s is stored as a webhook without that key, not a 500", async (path, key) => {
    const before = (await getJson(`${hb.adminUrl}/stats`)).totals.received;
    const res = await post(path, `{"${key}":${deep(100_000)}}`);
    expect(res.status).toBe(200);
    expect(res.json.status).toBe("accepted");
    // Nothing acknowledged is lost: it is stored and replayed byte for byte.
    await waitFor(async () => (await getJson(`${hb.adminUrl}/stats`)).totals.received === before + 1);
    await waitFor(() => up.requests.some((r) => r.url === path && r.body.length > 200_000));
  });

  test("a shallow array key still dedups", async () => {
    const first = await post("/dedup", '{"id":[1,[2,{"a":3}]]}');
    expect(first.json.status).toBe("accepted");
    expect((await post("/dedup", '{"id":[1,[2,{"a":3}]]}')).json.status).toBe("duplicate");
  });
});
