// npm run demo: a slow, flaky bot behind hookbuffer, a burst of LINE-shaped webhooks, and what
// happened to them. Everything runs on 127.0.0.1 and cleans up after itself.
import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const CHANNEL_SECRET = "demo-channel-secret";
const BURST = 40;
const dir = mkdtempSync(join(tmpdir(), "hookbuffer-demo-"));
const sign = (body) => createHmac("sha256", CHANNEL_SECRET).update(body).digest("base64");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

// The bot: takes 0.3-2.5 s per webhook, answers 500 a quarter of the time, and checks LINE's
// signature, so a replay that changed one byte would show up as a 401.
const bot = { seen: 0, badSignatures: 0, ok: 0 };
const botServer = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    bot.seen++;
    if (req.headers["x-line-signature"] !== sign(body)) {
      bot.badSignatures++;
      res.writeHead(401).end();
      return;
    }
    const delay = 300 + Math.random() * 2200;
    setTimeout(() => {
      if (Math.random() < 0.25) return res.writeHead(500).end("busy");
      bot.ok++;
      res.writeHead(200).end("ok");
    }, delay);
  });
});
await new Promise((r) => botServer.listen(0, "127.0.0.1", r));
const botUrl = `http://127.0.0.1:${botServer.address().port}`;

const configPath = join(dir, "config.yaml");
writeFileSync(
  configPath,
  `routes:
  - name: line
    path: /callback
    upstream: ${botUrl}/callback
    verify: {scheme: line, secret: "\${LINE_CHANNEL_SECRET}"}
delivery:
  timeout: 2s
  concurrency: 8
  dedup: line
  retry: {schedule: [0s, 500ms, 1s, 2s, 2s, 2s, 2s, 2s]}
  breaker: {failures: 8, cooldown: 2s}
log: {level: warn}
`,
);
const child = spawn(
  process.execPath,
  [
    resolve(import.meta.dirname, "../dist/cli.js"),
    "--config",
    configPath,
    "--db",
    join(dir, "demo.db"),
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--admin-port",
    "0",
    "--log-level",
    "info",
  ],
  { env: { ...process.env, LINE_CHANNEL_SECRET: CHANNEL_SECRET }, stdio: ["ignore", "pipe", "inherit"] },
);
const listening = await new Promise((resolveListen, reject) => {
  let out = "";
  child.stdout.on("data", (c) => {
    out += c;
    const line = out.split("\n").find((l) => l.includes('"hookbuffer listening"'));
    if (line) resolveListen(JSON.parse(line));
  });
  child.on("exit", (code) => reject(new Error(`hookbuffer exited with ${code}`)));
});
const ingest = `http://${listening.ingest}`;
const admin = `http://${listening.admin}`;

function lineBody(i) {
  return JSON.stringify({
    destination: "Udeadbeefdeadbeefdeadbeefdeadbeef",
    events: [
      {
        type: "message",
        webhookEventId: randomUUID(),
        timestamp: Date.now(),
        mode: "active",
        source: { type: "user", userId: `U${String(i % 5).padStart(32, "0")}` },
        message: { type: "text", id: String(1e15 + i), text: `hello #${i}` },
        deliveryContext: { isRedelivery: false },
        replyToken: randomUUID().replaceAll("-", ""),
      },
    ],
  });
}
async function post(url, body) {
  const t0 = performance.now();
  const res = await fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "x-line-signature": sign(body) },
  });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - t0 };
}

console.log("\nhookbuffer demo: a bot that takes 0.3-2.5 s and fails 25% of the time; LINE allows 2 s.\n");
const direct = await post(`${botUrl}/callback`, lineBody(-1));
console.log(`  straight to the bot:   ${direct.ms.toFixed(0).padStart(5)} ms  (HTTP ${direct.status})`);

const bodies = Array.from({ length: BURST }, (_, i) => lineBody(i));
const acks = await Promise.all(bodies.map((b) => post(`${ingest}/callback`, b)));
const ms = acks.map((a) => a.ms);
console.log(
  `  through hookbuffer:    p50 ${pct(ms, 0.5).toFixed(1)} ms, p99 ${pct(ms, 0.99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms  (${acks.filter((a) => a.status === 200).length}/${BURST} acknowledged with 200)`,
);
const dup = await post(`${ingest}/callback`, bodies[0]);
const forged = await fetch(`${ingest}/callback`, {
  method: "POST",
  body: bodies[1],
  headers: { "x-line-signature": "forged" },
});
console.log(`  LINE redelivers #0:    HTTP ${dup.status}, recognised as a duplicate and not stored again`);
console.log(`  a forged signature:    HTTP ${forged.status}, rejected and not stored\n`);

console.log("  delivering (retries on 500s and timeouts, bot signature checks on every replay):");
const t0 = Date.now();
let stats;
for (;;) {
  stats = await (await fetch(`${admin}/stats`)).json();
  const q = stats.queue;
  const route = stats.routes[0];
  const breaker =
    route.state === "open" ? `  breaker open (${route.disabled.code} ${route.disabled.sub_type})` : "";
  console.log(
    `    ${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s  delivered ${String(q.delivered).padStart(3)}  pending ${String(q.pending + q.delivering).padStart(3)}  dead ${q.dead}  failed attempts ${stats.totals.failed_attempts}${breaker}`,
  );
  if (q.pending + q.delivering === 0 || Date.now() - t0 > 30_000) break;
  await sleep(1000);
}

console.log("\n  /stats, as LINE's console would show it:");
console.log(
  `    received ${stats.totals.received}, delivered ${stats.totals.delivered}, duplicates ${stats.totals.duplicates}, rejected ${stats.totals.rejected}, dead ${stats.totals.dead}`,
);
for (const e of stats.errors) console.log(`    ${e.reason.padEnd(20)} ${e.detail.padEnd(34)} ${e.count}`);
console.log(
  `    delivery lag p50 <= ${stats.latency_ms.delivery_lag.p50} ms, p99 <= ${stats.latency_ms.delivery_lag.p99} ms`,
);
console.log(
  `  the bot saw ${bot.seen} requests, ${bot.badSignatures} with a bad signature (byte-exact replay).\n`,
);

child.kill("SIGTERM");
await new Promise((r) => child.on("exit", r));
botServer.close();
botServer.closeAllConnections();
rmSync(dir, { recursive: true, force: true });
console.log("  Try it against your own bot: npx hookbuffer --upstream http://127.0.0.1:3000  (see README)\n");
