// Baseline: the least an ack-after-commit server must do, with none of hookbuffer's features.
// Hono on the same adapter as hookbuffer, better-sqlite3 in WAL mode, one transaction per
// event-loop turn (group commit), each request answered only after the commit its row is in.
// SYNC=full makes every commit fsync the WAL inside COMMIT, on the event loop; SYNC=normal does
// not sync at all. DB is the file to write (default: a new one in the temp directory).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import Database from "better-sqlite3";
import { Hono } from "hono";

// A normal exit on SIGTERM, so `node --cpu-prof` (bench/profile.mjs) writes its profile.
process.on("SIGTERM", () => process.exit(0));
const sync = process.env.SYNC === "normal" ? "NORMAL" : "FULL";
const db = new Database(process.env.DB ?? join(mkdtempSync(join(tmpdir(), "group-commit-")), "gc.db"));
db.pragma("journal_mode = WAL");
db.pragma(`synchronous = ${sync}`);
db.exec(`CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL)`);
const insert = db.prepare("INSERT INTO events (received_at, headers, body) VALUES (?, ?, ?)");
const commitBatch = db.transaction((rows) => {
  for (const r of rows) insert.run(r.at, r.headers, r.body);
});

let batch = [];
function flush() {
  const rows = batch;
  batch = [];
  try {
    commitBatch(rows);
    for (const r of rows) r.done(null);
  } catch (err) {
    for (const r of rows) r.done(err);
  }
}

const app = new Hono();
app.post("*", async (c) => {
  const body = Buffer.from(await c.req.arrayBuffer());
  const headers = JSON.stringify(c.req.header());
  const err = await new Promise((done) => {
    if (batch.push({ at: Date.now(), headers, body, done }) === 1) setImmediate(flush);
  });
  if (err) return c.json({ error: { code: "storage", message: err.message } }, 503);
  return c.json({ status: "accepted" });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1" }, (info) => {
  process.stdout.write(`${JSON.stringify({ msg: "listening", port: info.port, synchronous: sync })}\n`);
});
