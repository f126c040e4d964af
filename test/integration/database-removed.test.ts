import { copyFileSync, renameSync, rmSync } from "node:fs";
import { describe, expect } from "vitest";
import { type Start, test } from "../helpers/harness.js";
import { waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import { header, type Recorder } from "../helpers/recorder.js";

/** Stores a few webhooks with the upstream down, then lets `change` act on the database file. */
async function scenario(
  { start, up, alerts }: { start: Start; up: Recorder; alerts: Recorder },
  change: (dbPath: string) => void,
): Promise<void> {
  up.reply(() => ({ status: 503 }));
  const hb = await start.hookbuffer({
    yaml: `
upstream: ${up.url}
delivery:
  retry: {exponential: {base: 1s, factor: 1, max_delay: 1s, max_attempts: 1000}}
  breaker: {failures: 0}
alerts:
  - url: ${alerts.url}/alert
`,
  });
  const acked = new Map<string, string>();
  for (let i = 0; i < 5; i++) {
    const body = JSON.stringify({ before: i });
    const res = await post(`${hb.ingestUrl}/hook`, body);
    expect(res.status).toBe(200);
    acked.set(res.json.id!, body);
  }
  expect((await fetch(`${hb.adminUrl}/readyz`)).status).toBe(200);

  change(hb.dbPath);

  // Not one more ack once the file is gone: the very next webhook is refused.
  const refused = await post(`${hb.ingestUrl}/hook`, '{"after":true}');
  expect(refused.status).toBe(503);
  expect(refused.retryAfter).toBeTruthy();
  expect(refused.json.error?.code).toBe("storage_unavailable");
  expect(refused.json.error?.message).toMatch(/removed or replaced/);
  for (let i = 0; i < 3; i++) expect((await post(`${hb.ingestUrl}/hook`)).status).toBe(503);

  const ready = await fetch(`${hb.adminUrl}/readyz`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { reason?: string }).reason).toMatch(/removed or replaced/);
  await waitFor(
    () => alerts.requests.some((r) => r.body.toString().includes('"database_missing"')),
    10_000,
    "a storage_failing alert for the database",
  );
  expect(hb.logs.filter((l) => l.includes("database file removed or replaced"))).toHaveLength(1);

  // What was acknowledged before is still delivered from the open file.
  up.reply(() => ({ status: 200 }));
  await waitFor(
    () =>
      [...acked.keys()].every((id) =>
        up.requests.some((r) => header(r, "x-hookbuffer-event-id") === id && r.url === "/hook"),
      ),
    15_000,
    "events stored before the removal to be delivered",
  );
}

describe("the database file removed or replaced while running", () => {
  test("deleted (with its WAL): ingest answers 503, /readyz is unready, an alert goes out, stored events still deliver", async ({
    start,
    up,
    alerts,
  }) => {
    await scenario({ start, up, alerts }, (db) => {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${db}${suffix}`, { force: true });
    });
  }, 40_000);

  test("replaced by another file: the same", async ({ start, up, alerts }) => {
    await scenario({ start, up, alerts }, (db) => {
      copyFileSync(db, `${db}.copy`);
      renameSync(`${db}.copy`, db);
    });
  }, 40_000);
});
