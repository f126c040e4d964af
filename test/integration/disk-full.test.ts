import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect } from "vitest";
import { test } from "../helpers/harness.js";
import { type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { post } from "../helpers/post.js";
import { header } from "../helpers/recorder.js";

/** A real small filesystem: a tmpfs mounted in a temp dir (root only). Null with the reason. */
function mountSmallFs(bytes: number): { dir: string; unmount: () => void } | string {
  if (process.getuid?.() !== 0) return "needs root to mount a tmpfs";
  const dir = mkdtempSync(join(tmpdir(), "hookbuffer-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir], { stdio: "pipe" });
  } catch (err) {
    rmdirSync(dir);
    return `mount -t tmpfs failed: ${(err as Error).message.split("\n")[0]}`;
  }
  return {
    dir,
    unmount: () => {
      execFileSync("umount", ["-l", dir], { stdio: "pipe" });
      rmdirSync(dir);
    },
  };
}

/** Writes a file until the filesystem refuses (ENOSPC); returns its path. */
function fillUp(dir: string): string {
  const path = join(dir, "filler");
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
    // Whatever partial block is left, take it too.
    try {
      for (;;) writeSync(fd, chunk, 0, 512);
    } catch {}
  } finally {
    closeSync(fd);
  }
  return path;
}

const mounted = mountSmallFs(16 * 1024 * 1024);

async function admin(hb: TestHookbuffer, path: string, method = "GET"): Promise<Response> {
  return fetch(`${hb.adminUrl}${path}`, {
    method,
    ...(method !== "GET" && { headers: { "content-type": "application/json" }, body: "{}" }),
  });
}

describe.skipIf(typeof mounted === "string")(
  `a real disk full (${typeof mounted === "string" ? mounted : "tmpfs"})`,
  () => {
    test("delivery backs off as a whole, ingest refuses with 503, and everything recovers once space is freed", async ({
      start,
      up,
      alerts,
    }) => {
      if (typeof mounted === "string") return;
      // Registered first, so it runs last: after hookbuffer has stopped using the filesystem.
      start.cleanup(() => mounted.unmount());
      const hb = await start.hookbuffer({
        dir: mounted.dir,
        yaml: `
upstream: ${up.url}
delivery:
  concurrency: 4
  breaker: {failures: 0}
alerts:
  - url: ${alerts.url}/alert
`,
      });
      // Stored while delivery is paused, so the outcomes come due only once the disk is full.
      const paused = await admin(hb, "/routes/default/pause", "POST");
      expect(paused.status, await paused.text()).toBe(200);
      const acked = new Map<string, Buffer>();
      for (let i = 0; i < 50; i++) {
        const body = Buffer.from(JSON.stringify({ n: i, pad: "x".repeat(500) }));
        const res = await post(`${hb.ingestUrl}/hook`, body);
        expect(res.status).toBe(200);
        acked.set(res.json.id as string, body);
      }
      // The first attempts are held by the upstream while the disk fills, so their outcomes come
      // back to a full filesystem; later requests are answered at once (a storm would show).
      up.reply((_req, n) => (n <= 4 ? { status: 200, delayMs: 2_000 } : { status: 200 }));
      const resumed = await admin(hb, "/routes/default/resume", "POST");
      expect(resumed.status, await resumed.text()).toBe(200);
      await waitFor(() => up.requests.length > 0, 10_000, "deliveries to start");
      // An empty WAL: every commit from now on needs new blocks on the filesystem.
      const side = new Database(hb.dbPath, { timeout: 5000 });
      side.pragma("wal_checkpoint(TRUNCATE)");
      side.close();
      const filler = fillUp(mounted.dir);
      const logsBefore = hb.logs.length;
      await waitFor(() => up.requests.length > 0, 10_000, "deliveries to start");
      // Give a storm time to happen.
      await new Promise((r) => setTimeout(r, 4_000));
      const sentWhileFull = up.requests.length;
      // At most the attempts already handed to the delivery thread (4 x concurrency) and the 4 held.
      expect(sentWhileFull, "upstream requests while outcomes cannot be recorded").toBeLessThanOrEqual(20);

      // Ingest takes the size-cap path: 503 with Retry-After and a JSON error, never 200.
      const refused = await post(`${hb.ingestUrl}/hook`, '{"late":true}');
      expect(refused.status).toBe(503);
      expect(refused.retryAfter).toBeTruthy();
      expect(refused.json.error?.code).toBe("storage_unavailable");

      // Visible: a gauge, an alert, and a bounded log.
      const metrics = await (await admin(hb, "/metrics")).text();
      const gauge = /^hookbuffer_unrecorded_outcomes (\d+)/m.exec(metrics);
      expect(Number(gauge?.[1]), "gauge").toBeGreaterThan(0);
      await waitFor(
        () => alerts.requests.some((r) => r.body.toString().includes('"storage_failing"')),
        10_000,
        "a storage_failing alert",
      );
      const during = hb.logs.slice(logsBefore);
      expect(during.length, during.slice(0, 5).join("\n")).toBeLessThan(30);
      expect(during.filter((l) => l.includes("could not record delivery outcomes"))).toHaveLength(1);

      // Space comes back: held outcomes commit, nothing is sent again, delivery and ingest resume.
      rmSync(filler);
      await waitFor(
        async () => /^hookbuffer_unrecorded_outcomes 0/m.test(await (await admin(hb, "/metrics")).text()),
        20_000,
        "held outcomes to commit",
      );
      await waitFor(
        async () => (await post(`${hb.ingestUrl}/hook`)).status === 200,
        20_000,
        "ingest to accept again",
      );
      await waitFor(
        () => {
          const reader = new Database(hb.dbPath, { readonly: true });
          const open = reader
            .prepare("SELECT count(*) FROM events WHERE status != 'delivered'")
            .pluck()
            .get() as number;
          reader.close();
          return open === 0;
        },
        20_000,
        "every event to be recorded as delivered",
      );
      for (const [id, body] of acked) {
        const copies = up.requests.filter((r) => header(r, "x-hookbuffer-event-id") === id);
        expect(copies.length, `event ${id}`).toBeGreaterThan(0);
        expect(copies.every((c) => c.body.equals(body))).toBe(true);
      }
      expect(up.requests.length, "no resends after recovery").toBeLessThanOrEqual(51);
      expect(hb.logs.filter((l) => l.includes("delivery outcomes recorded again"))).toHaveLength(1);
      expect(alerts.requests.some((r) => r.body.toString().includes('"storage_recovered"'))).toBe(true);
    }, 90_000);
  },
);
