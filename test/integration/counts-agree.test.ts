import { renameSync } from "node:fs";
import { describe, expect } from "vitest";
import { test } from "../helpers/harness.js";
import { getJson, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import { parseExposition } from "../helpers/prom-text.js";
import { testStore } from "../helpers/test-store.js";

/** Refusals seen, by error code. */
let seen: Record<string, number> = {};
async function ingest(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await post(url, "{}", headers);
  const { error } = res.json;
  if (error) seen[error.code] = (seen[error.code] ?? 0) + 1;
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
  // Moves the SQLite file away to cause storage refusals; PostgreSQL's are in pg-replicas.test.ts.
  test.skipIf(testStore === "postgres")(
    "signature, backpressure and storage refusals are counted once each, the same in both",
    async ({ start, up }) => {
      up.reply(() => ({ status: 503 })); // nothing leaves the queue
      const hb = await start.hookbuffer({
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
      for (let i = 0; i < 2; i++) expect(await ingest(url, { "X-Signature": "00" })).toBe(401);
      // The database file is moved away: webhooks are refused as storage_unavailable until it is back.
      renameSync(hb.dbPath, `${hb.dbPath}.moved`);
      for (let i = 0; i < 4; i++) expect(await ingest(url, signed)).toBe(503);
      renameSync(`${hb.dbPath}.moved`, hb.dbPath);
      await waitFor(async () => (await ingest(url, signed)) === 200, 10_000, "ingest to accept again");
      for (let i = 0; i < 3; i++) expect(await ingest(url, signed)).toBe(503); // over max_pending
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
    },
  );
});
