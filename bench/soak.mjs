// Soak test, not in CI: `npm run soak -- --minutes N [--rate R] [--synchronous full|normal]`.
// Spawns the built CLI, posts webhooks at a steady rate while a local upstream flaps (refuses,
// answers 500, hangs past the delivery timeout, resets sockets, recovers), prints RSS, backlog and
// loss every 10 s, then drains and prints a verdict: RSS flat and zero loss, or exit 1.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    rate: { type: "string", default: "200" },
    synchronous: { type: "string", default: "full" },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const CLI = resolve(import.meta.dirname, "../dist/cli.js");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const digest = (buf) => createHash("sha256").update(buf).digest("base64");

// --- flapping upstream -------------------------------------------------------------------------
let mode = "ok";
const delivered = new Map(); // event id -> copies
let corrupted = 0;
let upstreamRequests = 0;
const acked = new Map(); // event id -> body digest (not the body: keeps this process's memory flat)
const hung = new Set();
const upstream = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    upstreamRequests++;
    if (mode === "reset") return req.socket.resetAndDestroy();
    if (mode === "hang") {
      hung.add(res);
      res.on("close", () => hung.delete(res));
      return;
    }
    if (mode === "error") return res.writeHead(500).end();
    const id = req.headers["x-hookbuffer-event-id"];
    const want = acked.get(id);
    if (want !== undefined && want !== digest(Buffer.concat(chunks))) corrupted++;
    delivered.set(id, (delivered.get(id) ?? 0) + 1);
    res.writeHead(200).end();
  });
});
const listen = (port) =>
  new Promise((r) => upstream.listen(port, "127.0.0.1", () => r(upstream.address().port)));
const upstreamPort = await listen(0);
async function setMode(next) {
  if (next === mode) return;
  if (mode === "hang") for (const res of hung) res.destroy();
  if (next === "refuse") {
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  } else if (mode === "refuse") await listen(upstreamPort);
  mode = next;
}

// --- hookbuffer child -----------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), "hookbuffer-soak-"));
const dbPath = join(dir, "soak.db");
writeFileSync(
  join(dir, "hookbuffer.yaml"),
  `upstream: http://127.0.0.1:${upstreamPort}
listen: {host: 127.0.0.1, port: 0}
admin: {port: 0}
storage:
  path: ${dbPath}
  synchronous: ${values.synchronous}
  retention: {delivered: 1m}   # exercise the pruner under load and keep the file flat
delivery:
  timeout: 1s
  connect_timeout: 500ms
  retry: {exponential: {base: 100ms, factor: 2, max_delay: 2s, max_attempts: 100000}}
  breaker: {failures: 5, cooldown: 500ms, max_cooldown: 2s}
log: {level: info}
`,
);
const proc = spawn(process.execPath, [CLI, "--config", join(dir, "hookbuffer.yaml")], {
  stdio: ["ignore", "pipe", "inherit"],
});
let ingestUrl;
let adminUrl;
let stdout = "";
await new Promise((resolveStart, rejectStart) => {
  proc.stdout.on("data", (c) => {
    stdout += c;
    const line = stdout.split("\n").find((l) => l.includes('"hookbuffer listening"'));
    if (line && !ingestUrl) {
      const j = JSON.parse(line);
      ingestUrl = `http://${j.ingest}`;
      adminUrl = `http://${j.admin}`;
      resolveStart();
    }
    if (stdout.length > 1e6) stdout = stdout.slice(-1e5);
  });
  proc.on("exit", (code) => rejectStart(new Error(`hookbuffer exited early (${code})`)));
});

function rssMb() {
  const status = readFileSync(`/proc/${proc.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}
async function queue() {
  const res = await request(`${adminUrl}/stats`);
  return (await res.body.json()).queue;
}
const fileMb = (p) => {
  try {
    return statSync(p).size / 2 ** 20;
  } catch {
    return 0;
  }
};

// --- load, flapping, reporting ------------------------------------------------------------------
const agent = new Agent({ connections: 64, headersTimeout: 5_000, bodyTimeout: 5_000 });
let sent = 0;
let refused = 0;
let errors = 0;
let sending = true;
const latencies = [];
const sender = (async () => {
  const start = Date.now();
  while (sending) {
    const due = start + (sent * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    sent++;
    const body = Buffer.concat([
      Buffer.from(`{"n":${sent},"pad":"`),
      randomBytes(512 + (sent % 512)),
      Buffer.from('"}'),
    ]);
    const t0 = performance.now();
    request(`${ingestUrl}/hook`, { method: "POST", body, dispatcher: agent })
      .then(async (res) => {
        const text = await res.body.text();
        latencies.push(performance.now() - t0);
        if (res.statusCode === 200) acked.set(JSON.parse(text).id, digest(body));
        else refused++;
      })
      .catch(() => errors++);
  }
})();

const flapper = (async () => {
  while (sending) {
    await setMode("ok");
    await sleep(5_000 + Math.random() * 15_000);
    if (!sending) break;
    await setMode(["refuse", "error", "hang", "reset"][Math.floor(Math.random() * 4)]);
    await sleep(2_000 + Math.random() * 8_000);
  }
  await setMode("ok");
})();

const samples = [];
const t0 = Date.now();
const pct = (xs, p) =>
  xs.length === 0 ? 0 : xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
function undelivered() {
  let n = 0;
  for (const id of acked.keys()) if (!delivered.has(id)) n++;
  return n;
}
async function report(tag) {
  const q = await queue();
  const rss = rssMb();
  samples.push(rss);
  const p99 = pct(latencies.splice(0), 0.99);
  console.log(
    `${tag} t=${Math.round((Date.now() - t0) / 1000)}s rss=${rss.toFixed(1)}MB backlog=${q.pending + q.delivering} ` +
      `acked=${acked.size} delivered=${delivered.size} undelivered=${undelivered()} refused=${refused} errors=${errors} ` +
      `corrupted=${corrupted} ack_p99=${p99.toFixed(1)}ms db=${fileMb(dbPath).toFixed(1)}MB wal=${fileMb(`${dbPath}-wal`).toFixed(1)}MB upstream=${mode}`,
  );
}
const ticker = setInterval(() => void report("soak"), 10_000);
await sleep(minutes * 60_000);
sending = false;
await sender;
await flapper;
clearInterval(ticker);

// Drain: the upstream is healthy now; everything acknowledged must arrive.
const drainDeadline = Date.now() + 120_000;
while (undelivered() > 0 && Date.now() < drainDeadline) await sleep(500);
await report("drained");
const lost = undelivered();
let duplicates = 0;
for (const [id, copies] of delivered) if (acked.has(id)) duplicates += copies - 1;

// RSS flat: after a warm-up third, the last third's mean may not exceed the middle third's by > 15 % + 10 MB.
const third = Math.max(1, Math.floor(samples.length / 3));
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const middle = mean(samples.slice(third, 2 * third));
const last = mean(samples.slice(-third));
const rssFlat = last <= middle * 1.15 + 10;
proc.kill("SIGTERM");
const code = await new Promise((r) => proc.on("exit", (c) => r(c)));
await agent.close();
upstream.closeAllConnections();
upstream.close();
rmSync(dir, { recursive: true, force: true });
const ok = lost === 0 && corrupted === 0 && rssFlat && code === 0;
console.log(
  `verdict ${ok ? "PASS" : "FAIL"}: ${minutes} min at ${rate}/s (${values.synchronous}), sent ${sent}, acked ${acked.size}, ` +
    `refused ${refused}, send errors ${errors}, upstream requests ${upstreamRequests}, delivered ${delivered.size}, ` +
    `duplicates ${duplicates}, lost ${lost}, corrupted ${corrupted}, rss middle ${middle.toFixed(1)}MB -> last ${last.toFixed(1)}MB ` +
    `(${rssFlat ? "flat" : "GROWING"}), exit ${code}`,
);
process.exit(ok ? 0 : 1);
