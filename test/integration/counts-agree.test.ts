import { renameSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import { getJson, startHookbuffer, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { parseExposition } from "../helpers/prom-text.js";
import { type Recorder, startRecorder } from "../helpers/recorder.js";

let hb: TestHookbuffer | undefined;
let up: Recorder | undefined;
afterEach(async () => {
  await hb?.stop();
  await up?.close();
  hb = undefined;
  up = undefined;
});

/** Refusals seen, by error code. */
let seen: Record<string, number> = {};
async function post(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { method: "POST", body: "{}", headers });
  const json = (await res.json()) as { error?: { code: string } };
  if (json.error) seen[json.error.code] = (seen[json.error.code] ?? 0) + 1;
  return res.status;
}

/** One scrape (two in a row can read prom-client's event-loop mean as NaN, which the parser refuses). */
async function rejectedTotals(adminUrl: string): Promise<Record<string, number>> {
  const m = parseExposition(await (await fetch(`${adminUrl}/metrics`)).text());
  const kinds = ["signature", "backpressure", "storage"];
  return Object.fromEntries(
    kinds.map((kind) => [kind, m.value("hookbuffer_rejected_total", { route: "default", kind })]),
  );
}

describe("/stats and /metrics count from the same commits", () => {
  test("signature, backpressure and storage refusals are counted once each, the same in both", async () => {
    up = await startRecorder();
    up.reply(() => ({ status: 503 })); // nothing leaves the queue
    hb = await startHookbuffer({
      yaml: `
upstream: ${up.url}
verify: {scheme: hmac, secret: s3cret, header: X-Signature, algorithm: sha256, encoding: hex}
storage: {max_pending: 1}
delivery: {retry: {schedule: [1h]}, breaker: {failures: 0}}
`,
    });
    const url = `${hb.ingestUrl}/hook`;
    seen = {};
    const { createHmac } = await import("node:crypto");
    const signed = { "X-Signature": createHmac("sha256", "s3cret").update("{}").digest("hex") };
    for (let i = 0; i < 2; i++) expect(await post(url, { "X-Signature": "00" })).toBe(401);
    // The database file is moved away: webhooks are refused as storage_unavailable until it is back.
    renameSync(hb.dbPath, `${hb.dbPath}.moved`);
    for (let i = 0; i < 4; i++) expect(await post(url, signed)).toBe(503);
    renameSync(`${hb.dbPath}.moved`, hb.dbPath);
    await waitFor(async () => (await post(url, signed)) === 200, 10_000, "ingest to accept again");
    for (let i = 0; i < 3; i++) expect(await post(url, signed)).toBe(503); // over max_pending
    const storage = seen.storage_unavailable ?? 0;
    expect(storage).toBeGreaterThanOrEqual(4);
    expect(seen).toEqual({ malformed_signature: 2, storage_unavailable: storage, backpressure: 3 });

    const admin = hb.adminUrl;
    const stats = await waitFor(async () => {
      const s = await getJson(`${admin}/stats`);
      return s.totals.rejected_backpressure === 3 && s;
    });
    expect(stats.totals).toMatchObject({
      received: 1,
      rejected: 2,
      rejected_backpressure: 3,
      rejected_storage: storage,
    });
    expect(await rejectedTotals(admin)).toEqual({ signature: 2, backpressure: 3, storage });
  });
});
