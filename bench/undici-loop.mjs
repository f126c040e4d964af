// Baseline for delivery: a plain undici loop posting the same bodies to the same upstream with the
// same concurrency and keep-alive pool, with no storage at all.
import { Pool } from "undici";
import { lineBody } from "./lib/line-body.mjs";

const [url, n = "20000", concurrency = "8"] = process.argv.slice(2);
const pool = new Pool(new URL(url).origin, { connections: Number(concurrency), pipelining: 1 });
const bodies = Array.from({ length: 64 }, (_, i) => Buffer.from(lineBody(i)));
let next = 0;
const started = performance.now();
const cpu = process.cpuUsage();
async function worker() {
  while (next < Number(n)) {
    const i = next++;
    const res = await pool.request({
      path: "/callback",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bodies[i % bodies.length],
    });
    await res.body.dump();
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const seconds = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
await pool.close();
process.stdout.write(
  `${JSON.stringify({ events: Number(n), seconds, rate: Number(n) / seconds, cpuMs: (used.user + used.system) / 1000 })}\n`,
);
