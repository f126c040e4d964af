// Baseline: the ceiling for any Hono ingest. Reads the whole body and answers 200, nothing else.
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
app.post("*", async (c) => {
  await c.req.arrayBuffer();
  return c.json({ status: "accepted" });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1" }, (info) => {
  process.stdout.write(`${JSON.stringify({ msg: "listening", port: info.port })}\n`);
});
