// Load generator, run as its own process: autocannon posting signed LINE bodies, each with a
// unique webhookEventId (so dedup stores every one). Bodies are signed before the clock starts so
// the generator spends its CPU on sending. Prints a JSON summary on stdout.
import autocannon from "autocannon";
import { lineBody, sign } from "./lib/line-body.mjs";

const [url, seconds = "10", connections = "50", rate = "0", poolSize = "200000"] = process.argv.slice(2);
const pool = Array.from({ length: Number(poolSize) }, (_, i) => {
  const body = lineBody(i);
  return { body, headers: { "content-type": "application/json", "x-line-signature": sign(body) } };
});
let next = 0;
const result = await autocannon({
  url,
  method: "POST",
  connections: Number(connections),
  duration: Number(seconds),
  ...(Number(rate) > 0 ? { overallRate: Number(rate) } : {}),
  requests: [
    {
      setupRequest(req) {
        const { body, headers } = pool[next++ % pool.length];
        return { ...req, body, headers };
      },
    },
  ],
});
process.stdout.write(
  `${JSON.stringify({
    rps: result.requests.average,
    total: result.requests.total,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    wrapped: next > pool.length,
    latency: {
      p50: result.latency.p50,
      p99: result.latency.p99,
      max: result.latency.max,
      avg: result.latency.average,
    },
  })}\n`,
);
