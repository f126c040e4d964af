// Load generator, run as its own process: autocannon posting signed LINE bodies, each with a
// unique webhookEventId (so dedup stores every one). Bodies are signed before the clock starts so
// the generator spends its CPU on sending. Prints a JSON summary on stdout. With `amount`, exactly
// that many requests are sent (the duration is then ignored), e.g. to pre-load a queue.
import autocannon from "autocannon";
import { lineBody, sign } from "./lib/line-body.mjs";

const [url, seconds = "10", connections = "50", rate = "0", poolSize = "200000", amount = "0"] =
  process.argv.slice(2);
const perConnection = Math.ceil(Math.max(Number(poolSize), Number(amount)) / Number(connections));
// Each connection gets its own slice of pre-built requests (autocannon serialises static requests
// once), so no body is sent twice and the generator spends its CPU on sending.
const slices = Array.from({ length: Number(connections) }, (_, c) =>
  Array.from({ length: perConnection }, (_, k) => {
    const body = lineBody(c * perConnection + k);
    return {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-line-signature": sign(body) },
    };
  }),
);
let nextSlice = 0;
const result = await autocannon({
  url,
  method: "POST",
  connections: Number(connections),
  duration: Number(seconds),
  ...(Number(rate) > 0 ? { overallRate: Number(rate) } : {}),
  ...(Number(amount) > 0 ? { amount: Number(amount) } : {}),
  setupClient(client) {
    client.setRequests(slices[nextSlice++ % slices.length]);
  },
});
const next = result.requests.total;
const pool = { length: perConnection * Number(connections) };
process.stdout.write(
  `${JSON.stringify({
    rps: result.requests.average,
    total: result.requests.total,
    // Answered requests over the nominal duration: with a rate limit, the rate the server kept up
    // with (autocannon's own duration includes a tail that would understate it).
    completedPerSec: result.requests.total / Number(seconds),
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
