// Second baseline: bare Hono that answers all requests of one event-loop turn together, as group
// commit does. This alone makes responses cheaper, so hookbuffer is compared against both.
import { serve } from "@hono/node-server";
import { Hono } from "hono";

let waiting = [];
const flush = () => {
  const batch = waiting;
  waiting = [];
  for (const resolve of batch) resolve();
};
const app = new Hono();
app.post("*", async (c) => {
  await c.req.arrayBuffer();
  await new Promise((resolve) => {
    if (waiting.push(resolve) === 1) setImmediate(flush);
  });
  return c.json({ status: "accepted" });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1" }, (info) => {
  process.stdout.write(`${JSON.stringify({ msg: "listening", port: info.port })}\n`);
});
