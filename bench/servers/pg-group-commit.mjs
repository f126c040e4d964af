// Baseline: the least an ack-after-commit server on PostgreSQL must do, with none of hookbuffer's
// features. Hono on the same adapter as hookbuffer; the requests of one event-loop turn become one
// multi-row INSERT (INSERT ... SELECT FROM unnest, one statement, so one implicit transaction),
// committed with synchronous_commit = on, and each request is answered only after that commit.
// While POOL commits are in flight the next turns' requests wait and go in the following batch.
// PG_URL is the database, SCHEMA the schema to write (created), DRIVER `pg` (node-postgres) or
// `postgres` (porsager's postgres.js).
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { connect } from "../lib/pg-driver.mjs";

const poolSize = Number(process.env.POOL ?? 4);
const db = await connect(process.env.DRIVER ?? "pg", process.env.PG_URL, process.env.SCHEMA, poolSize);
await db.query(`CREATE TABLE IF NOT EXISTS events (
  id bigserial PRIMARY KEY, received_at bigint NOT NULL, headers text NOT NULL, body bytea NOT NULL)`);
const insert = `INSERT INTO events (received_at, headers, body)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[])`;

let batch = [];
let inFlight = 0;
let scheduled = false;
async function flush() {
  scheduled = false;
  if (batch.length === 0 || inFlight >= poolSize) return;
  const rows = batch;
  batch = [];
  inFlight++;
  let err = null;
  try {
    await db.query(insert, [rows.map((r) => r.at), rows.map((r) => r.headers), rows.map((r) => r.body)]);
  } catch (e) {
    err = e;
  }
  inFlight--;
  for (const r of rows) r.done(err);
  if (batch.length > 0) schedule();
}
function schedule() {
  if (scheduled) return;
  scheduled = true;
  setImmediate(flush);
}

const app = new Hono();
app.post("*", async (c) => {
  const body = Buffer.from(await c.req.arrayBuffer());
  const headers = JSON.stringify(c.req.header());
  const err = await new Promise((done) => {
    batch.push({ at: Date.now(), headers, body, done });
    schedule();
  });
  if (err) return c.json({ error: { code: "storage", message: err.message } }, 503);
  return c.json({ status: "accepted" });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1" }, (info) => {
  process.stdout.write(`${JSON.stringify({ msg: "listening", port: info.port, driver: db.driver })}\n`);
});
