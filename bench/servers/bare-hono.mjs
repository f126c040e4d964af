// Baseline: the ceiling for any Hono ingest. Reads the whole body and answers 200, nothing else.
// READ=incoming reads it from Node's IncomingMessage with hookbuffer's own reader instead of
// `c.req.arrayBuffer()`, to compare the two ways of reading a body on the same adapter.
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { readBody } from "../../dist/ingest/capture.js";

const direct = process.env.READ === "incoming";
const app = new Hono();
app.post("*", async (c) => {
  if (direct) await readBody(c.env.incoming, 1 << 20);
  else await c.req.arrayBuffer();
  return c.json({ status: "accepted" });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1" }, (info) => {
  process.stdout.write(`${JSON.stringify({ msg: "listening", port: info.port })}\n`);
});
