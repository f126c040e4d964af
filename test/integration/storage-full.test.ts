import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import { describe, expect } from "vitest";
import { test } from "../helpers/harness.js";
import { waitFor } from "../helpers/hookbuffer.js";
import { type IngestReply, type Posted, post } from "../helpers/post.js";
import { header } from "../helpers/recorder.js";

describe("storage.max_db_size", () => {
  test("a full database answers 503 (never 200), keeps stored events deliverable, and recovers by itself", async ({
    start,
    up,
  }) => {
    up.reply(() => ({ status: 503 })); // the upstream is down while the database fills
    const hb = await start.hookbuffer({
      yaml: `
upstream: ${up.url}
storage:
  max_db_size: 1mb
delivery:
  retry: {exponential: {base: 1s, factor: 1, max_delay: 1s, max_attempts: 1000}}
  breaker: {failures: 0}
`,
    });
    const acked = new Map<string, Buffer>();
    let refused: Posted<IngestReply> | undefined;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const body = randomBytes(16 * 1024);
      const res = await post(`${hb.ingestUrl}/hook`, body);
      if (res.status === 200) acked.set(res.json.id!, body);
      else refused = res;
    }
    expect(acked.size).toBeGreaterThan(20);
    expect(refused?.status).toBe(503);
    expect(refused?.retryAfter).toBeDefined();
    expect(refused?.json.error?.code).toBe("storage_unavailable");
    for (let i = 0; i < 5; i++)
      expect((await post(`${hb.ingestUrl}/hook`, randomBytes(16 * 1024))).status).toBe(503);
    expect(hb.logs.filter((l) => l.includes("database full: refusing new webhooks"))).toHaveLength(1);

    // Everything acknowledged is still there, byte for byte.
    const reader = new Database(hb.dbPath, { readonly: true });
    const rows = reader.prepare("SELECT id, body FROM events").all() as Array<{ id: string; body: Buffer }>;
    reader.close();
    expect(rows).toHaveLength(acked.size);
    for (const row of rows) expect(row.body.equals(acked.get(row.id)!)).toBe(true);

    // The upstream recovers: deliveries finish, delivered events are pruned early, ingest resumes.
    up.reply(() => ({ status: 200 }));
    await waitFor(
      async () => (await post(`${hb.ingestUrl}/hook`, randomBytes(16 * 1024))).status === 200,
      20_000,
      "ingest to accept again",
    );
    for (const [id, body] of acked) {
      const copies = up.requests.filter(
        (r) => header(r, "x-hookbuffer-event-id") === id && r.body.equals(body),
      );
      expect(copies.length, `event ${id}`).toBeGreaterThan(0);
    }
    // The pruner logs after its whole pass, which may end after ingest already took the first webhook.
    await waitFor(
      () => hb.logs.some((l) => l.includes("pruned delivered events before their retention age")),
      10_000,
      "the early prune's log line",
    );
  }, 40_000);
});
