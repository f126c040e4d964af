// Seeds databases directly (schema from hookbuffer's own migrations) for the delivery, deep
// backlog and /stats sections, so set-up time is not part of what is measured.
import { randomUUID } from "node:crypto";
import { openDatabase } from "../../dist/store/open.js";
import { lineBody } from "./line-body.mjs";

/** Inserts `n` pending events for `route`, due now, in transactions of 10,000. */
export function seedEvents(path, route, n, { paused = false } = {}) {
  const { db, close } = openDatabase({ path, synchronous: "normal" });
  const insert = db.prepare(
    `INSERT INTO events (id, route, received_at, method, path, query, headers, body, body_size, status,
       next_attempt_at, schedule_start) VALUES (?, ?, ?, 'POST', '/callback', '', ?, ?, ?, 'pending', ?, ?)`,
  );
  const now = Date.now();
  const headers = JSON.stringify([
    ["Content-Type", "application/json"],
    ["X-Line-Signature", "seeded"],
  ]);
  const bodies = Array.from({ length: 64 }, (_, i) => Buffer.from(lineBody(i)));
  const chunk = db.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      const body = bodies[i % bodies.length];
      // ULID-like ids that sort in insertion order.
      const id = `01SEED${String(i).padStart(12, "0")}${randomUUID().slice(0, 8).toUpperCase()}`;
      insert.run(id, route, now, headers, body, body.length, now, now);
    }
  });
  for (let i = 0; i < n; i += 10_000) chunk(i, Math.min(n, i + 10_000));
  if (paused) {
    db.prepare(
      "INSERT OR REPLACE INTO routes_state (route, state, consecutive_failures, updated_at) VALUES (?, 'paused', 0, ?)",
    ).run(route, now);
  }
  db.pragma("wal_checkpoint(TRUNCATE)");
  close();
}

/** 30 days of per-minute buckets for two routes, shaped like a busy deployment's. */
export function seedStats(path, days = 30) {
  const { db, close } = openDatabase({ path, synchronous: "normal" });
  const upsert = db.prepare(
    "INSERT INTO stats_minute (minute, route, metric, detail, count) VALUES (?, ?, ?, ?, ?)",
  );
  const now = Date.now() - (Date.now() % 60_000);
  const minutes = days * 1440;
  let rows = 0;
  db.transaction(() => {
    for (let m = 0; m < minutes; m++) {
      const minute = now - m * 60_000;
      for (const route of ["line", "github"]) {
        upsert.run(minute, route, "received", "", 100);
        upsert.run(minute, route, "delivered", "", 97);
        upsert.run(minute, route, "attempt_ms", "25", 90);
        upsert.run(minute, route, "attempt_ms", "250", 10);
        upsert.run(minute, route, "lag_ms", "100", 97);
        upsert.run(minute, route, "error_status_code", "503", 2);
        upsert.run(minute, route, "request_timeout", "Request timeout", 1);
        rows += 7;
      }
    }
  })();
  close();
  return rows;
}

export { randomUUID };
