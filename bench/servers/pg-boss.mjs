// Peer: the same Hono server handing each webhook to pg-boss (10.x, the last line that runs on
// Node 20) with one `send()` per request, answered once pg-boss has stored the job. pg-boss keeps
// its tables in SCHEMA (created by pg-boss) of the database at PG_URL.
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import PgBoss from "pg-boss";

const boss = new PgBoss({
  connectionString: process.env.PG_URL,
  schema: process.env.SCHEMA ?? "pgboss",
  max: Number(process.env.POOL ?? 4),
  // Only storing is measured: no maintenance or scheduling work in the background.
  supervise: false,
  schedule: false,
});
boss.on("error", (err) => process.stderr.write(`pg-boss: ${err.message}\n`));
await boss.start();
await boss.createQueue("webhooks");

const app = new Hono();
app.post("*", async (c) => {
  const body = await c.req.text();
  try {
    await boss.send("webhooks", { receivedAt: Date.now(), headers: c.req.header(), body });
  } catch (err) {
    return c.json({ error: { code: "storage", message: err.message } }, 503);
  }
  return c.json({ status: "accepted" });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1" }, (info) => {
  process.stdout.write(`${JSON.stringify({ msg: "listening", port: info.port })}\n`);
});
