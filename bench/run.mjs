// npm run bench [-- --quick] [--only=ingest,delivery,e2e,backlog,stats,tracing] [--delivery-thread=false]:
// hookbuffer's figures side by side with baselines measured in the same
// run, as ratios. Every server is its own process; the load generator is another. Writes a JSON
// file to bench/results/ and prints a table.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { runJson, sleep, startServer } from "./lib/proc.mjs";
import { seedEvents, seedStats } from "./lib/seed.mjs";
import { tracingRows, tracingSection } from "./tracing.mjs";

const quick = process.argv.includes("--quick");
const only = process.argv
  .find((a) => a.startsWith("--only="))
  ?.slice(7)
  .split(",");
const P = quick
  ? {
      seconds: 3,
      runs: 1,
      deliveryN: 5_000,
      concurrencies: [8],
      backlog: 100_000,
      e2eRates: [3_000, 5_000],
      e2eConcurrency: 32,
      e2eSeconds: 4,
    }
  : {
      seconds: 8,
      runs: 3,
      deliveryN: 30_000,
      concurrencies: [8, 32],
      backlog: 1_000_000,
      e2eRates: [3_000, 4_000, 5_000, 6_000, 7_000],
      e2eConcurrency: 32,
      e2eSeconds: 8,
    };
// --delivery-thread=false measures replay from the main thread instead of the delivery thread.
const deliveryThread = !process.argv.includes("--delivery-thread=false");
const here = import.meta.dirname;
const CLI = resolve(here, "../dist/cli.js");
const work = mkdtempSync(join(tmpdir(), "hookbuffer-bench-"));
const results = {
  machine: machine(),
  mode: quick ? "quick" : "full",
  deliveryThread,
  started: new Date().toISOString(),
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const want = (name) => !only || only.includes(name);
const log = (msg) => process.stderr.write(`  ${msg}\n`);

function machine() {
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

function hookbufferConfig(upstreamPort, concurrency = 8) {
  const path = join(work, `config-${upstreamPort}-${concurrency}.yaml`);
  writeFileSync(
    path,
    `upstream: http://127.0.0.1:${upstreamPort}
routes:
  - name: line
    path: /callback
    verify: {scheme: line, secret: bench-channel-secret}
    delivery: {dedup: line, concurrency: ${concurrency}}
log: {level: warn}
delivery_thread: ${deliveryThread}
`,
  );
  return path;
}

async function startHookbuffer(db, upstreamPort, concurrency = 8) {
  return startServer(CLI, [
    "--config",
    hookbufferConfig(upstreamPort, concurrency),
    "--db",
    db,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--admin-port",
    "0",
    "--log-level",
    "info",
  ]);
}

const admin = async (hb, method, path) => {
  const res = await fetch(`http://127.0.0.1:${hb.adminPort}${path}`, { method });
  return res.json();
};
/** A short unmeasured run first, so JIT warm-up is not part of the figure. */
async function warm(port) {
  await runJson(join(here, "load.mjs"), [
    `http://127.0.0.1:${port}/callback`,
    quick ? "1" : "2",
    "50",
    "0",
    "40000",
  ]);
}
const load = (port, seconds, rate = 0, connections = 50) =>
  runJson(join(here, "load.mjs"), [
    `http://127.0.0.1:${port}/callback`,
    String(seconds),
    String(connections),
    String(rate),
    String(Math.max(50_000, Math.round((rate || 20_000) * seconds * 1.3))),
  ]);

async function ingestSection() {
  const runs = { bare: [], batched: [], hookbuffer: [] };
  for (let r = 0; r < P.runs; r++) {
    for (const [name, script] of [
      ["bare", "servers/bare-hono.mjs"],
      ["batched", "servers/batched-hono.mjs"],
    ]) {
      const s = await startServer(join(here, script));
      await warm(s.port);
      runs[name].push(await load(s.port, P.seconds));
      await s.stop("SIGKILL");
    }
    const db = join(work, `ingest-${r}.db`);
    const hb = await startHookbuffer(db, 9); // upstream unused: the route is paused below
    await admin(hb, "POST", "/routes/line/pause");
    await warm(hb.port);
    const warmed = (await admin(hb, "GET", "/stats")).queue.pending;
    const res = await load(hb.port, P.seconds);
    await hb.stop();
    const stored =
      new Database(db, { readonly: true }).prepare("SELECT COUNT(*) FROM events").pluck().get() - warmed;
    runs.hookbuffer.push({ ...res, stored, lost: res.ok - stored });
    log(
      `ingest run ${r + 1}: bare ${runs.bare[r].rps.toFixed(0)}/s, hookbuffer ${res.rps.toFixed(0)}/s (stored ${stored} of ${res.ok} acked)`,
    );
  }
  const pick = (xs) => xs.find((x) => x.rps === median(xs.map((y) => y.rps)));
  const bare = pick(runs.bare);
  const batched = pick(runs.batched);
  const hb = pick(runs.hookbuffer);
  results.ingest = {
    bare,
    batched,
    hookbuffer: hb,
    ratio: hb.rps / bare.rps,
    ratioVsBatched: hb.rps / batched.rps,
    lost: runs.hookbuffer.reduce((s, x) => s + Math.max(0, x.lost), 0),
  };
}

/** The upstream's answered-request count and CPU time so far. */
function upstreamState(up) {
  return new Promise((r) => {
    up.child.once("message", r);
    up.child.send("count");
  });
}

/**
 * Drains a seeded backlog into a fast upstream; the baseline posts the same bodies with undici.
 * Besides the rates, CPU time per event for each process (all its threads): on a machine where
 * the drain uses every core, the ratio of rates follows the ratio of CPU per event.
 */
async function deliveryRun(concurrency) {
  const db = join(work, `delivery-${concurrency}.db`);
  seedEvents(db, "line", P.deliveryN);
  const up = await startServer(join(here, "servers/upstream.mjs"));
  const upBeforeLoop = await upstreamState(up);
  const baseline = await runJson(join(here, "undici-loop.mjs"), [
    `http://127.0.0.1:${up.port}`,
    String(P.deliveryN),
    String(concurrency),
  ]);
  const upBeforeHb = await upstreamState(up);
  const t0 = performance.now();
  const hb = await startHookbuffer(db, up.port, concurrency);
  const hbCpu0 = hb.cpuMs();
  let delivered = 0;
  while (delivered < P.deliveryN) {
    await sleep(50);
    delivered = (await admin(hb, "GET", "/stats")).queue.delivered;
  }
  const seconds = (performance.now() - t0 - hb.startupMs) / 1000;
  const hbCpu = hb.cpuMs() - hbCpu0;
  const upAfter = await upstreamState(up);
  await hb.stop();
  await up.stop("SIGKILL");
  const attemptRows = new Database(db, { readonly: true })
    .prepare("SELECT COUNT(*) FROM attempts")
    .pluck()
    .get();
  const rate = P.deliveryN / seconds;
  const perEvent = (ms) => (ms * 1000) / P.deliveryN;
  const cpuUs = {
    baseline: perEvent(baseline.cpuMs),
    baselineUpstream: perEvent(upBeforeHb.cpuMs - upBeforeLoop.cpuMs),
    hookbuffer: perEvent(hbCpu),
    hookbufferUpstream: perEvent(upAfter.cpuMs - upBeforeHb.cpuMs),
  };
  log(
    `delivery at concurrency ${concurrency}: ${rate.toFixed(0)}/s vs undici loop ${baseline.rate.toFixed(0)}/s; ` +
      `CPU per event ${cpuUs.hookbuffer.toFixed(0)} us vs ${cpuUs.baseline.toFixed(0)} us`,
  );
  return {
    concurrency,
    events: P.deliveryN,
    seconds,
    rate,
    baseline: baseline.rate,
    ratio: rate / baseline.rate,
    attemptRows,
    cpuUs,
  };
}

async function deliverySection() {
  results.delivery = [];
  for (const c of P.concurrencies) results.delivery.push(await deliveryRun(c));
}

async function endToEndSection() {
  const up = await startServer(join(here, "servers/upstream.mjs"));
  const concurrency = P.e2eConcurrency;
  results.endToEnd = { concurrency, rates: [] };
  for (const rate of P.e2eRates) {
    const hb = await startHookbuffer(join(work, `e2e-${rate}.db`), up.port, concurrency);
    const sample = async () => {
      const s = await admin(hb, "GET", "/stats");
      return {
        backlog: s.queue.pending + s.queue.delivering,
        delivered: s.queue.delivered,
        received: s.totals.received,
      };
    };
    const run = load(hb.port, P.e2eSeconds, rate, 50);
    // The generator builds its requests first: measure from one second after traffic starts.
    while ((await sample()).received === 0) await sleep(50);
    await sleep(1_000);
    const a = await sample();
    const t = performance.now();
    const res = await run;
    const b = await sample();
    const span = (performance.now() - t) / 1000;
    await hb.stop();
    // Sustained: the generator got at least 95% of the offered rate answered, every answer a 2xx,
    // and the backlog grew by less than a quarter second of traffic over the measured span.
    const flat =
      res.completedPerSec >= rate * 0.95 && b.backlog - a.backlog < rate * 0.25 && res.non2xx === 0;
    results.endToEnd.rates.push({
      rate,
      achieved: res.completedPerSec,
      backlogStart: a.backlog,
      backlogEnd: b.backlog,
      deliveredPerSec: (b.delivered - a.delivered) / span,
      flat,
      p99: res.latency.p99,
    });
    log(
      `end to end at ${rate}/s: ${res.completedPerSec.toFixed(0)}/s answered, backlog ${a.backlog} -> ${b.backlog}, ${flat ? "sustained" : "not sustained"}`,
    );
  }
  await up.stop("SIGKILL");
  // The highest rate below which every rate tried was flat: one lucky run above a growing one
  // does not count.
  let highest = 0;
  for (const r of results.endToEnd.rates) {
    if (!r.flat) break;
    highest = r.rate;
  }
  results.endToEnd.highestFlat = highest;
}

async function backlogSection() {
  const db = join(work, "backlog.db");
  const t = performance.now();
  seedEvents(db, "line", P.backlog, { paused: true });
  log(`seeded ${P.backlog} pending events in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const up = await startServer(join(here, "servers/upstream.mjs"));
  const hb = await startHookbuffer(db, up.port);
  const rssIdle = hb.rssMb();
  // Measured like the empty-database figure: warmed up, median of the same number of runs.
  await warm(hb.port);
  const runs = [];
  for (let r = 0; r < P.runs; r++) runs.push(await load(hb.port, P.seconds));
  const res = runs.find((x) => x.rps === median(runs.map((y) => y.rps)));
  const rssAfterLoad = hb.rssMb();
  // Time to claim: resume the paused route and time the first delivery of the 1,000,000.
  const before = await upstreamState(up);
  const t0 = performance.now();
  await admin(hb, "POST", "/routes/line/resume");
  let firstMs = null;
  while (firstMs === null && performance.now() - t0 < 10_000) {
    const now = await upstreamState(up);
    if (now.count > before.count) firstMs = performance.now() - t0;
    else await sleep(1);
  }
  await hb.stop();
  await up.stop("SIGKILL");
  results.backlog = {
    events: P.backlog,
    startupMs: hb.startupMs,
    rssIdleMb: rssIdle,
    rssAfterLoadMb: rssAfterLoad,
    ingest: res,
    firstDeliveryMs: firstMs,
  };
  log(
    `backlog: start-up ${hb.startupMs.toFixed(0)} ms, RSS ${rssAfterLoad.toFixed(0)} MB, ingest ${res.rps.toFixed(0)}/s`,
  );
}

async function statsSection() {
  const db = join(work, "stats.db");
  const rows = seedStats(db, 30);
  const hb = await startHookbuffer(db, 9);
  const from = new Date(Date.now() - 30 * 86_400_000).toISOString();
  const time = async (path) => {
    const ms = [];
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      const res = await fetch(`http://127.0.0.1:${hb.adminPort}${path}`);
      await res.arrayBuffer();
      ms.push(performance.now() - t);
    }
    return median(ms);
  };
  results.stats = {
    bucketRows: rows,
    statsMs: await time(`/stats?from=${from}`),
    metricsMs: await time("/metrics"),
  };
  await hb.stop();
  log(`/stats over 30 days: ${results.stats.statsMs.toFixed(1)} ms`);
}

const f = (n, d = 0) => (n === null || n === undefined ? "-" : Number(n).toFixed(d));
function table() {
  const rows = [];
  const i = results.ingest;
  if (i) {
    rows.push([
      "ingest: bare Hono baseline",
      `${f(i.bare.rps)} req/s`,
      `p50 ${i.bare.latency.p50} / p99 ${i.bare.latency.p99} / max ${i.bare.latency.max} ms`,
      "1.00x",
    ]);
    rows.push([
      "ingest: Hono answering once per turn",
      `${f(i.batched.rps)} req/s`,
      `p50 ${i.batched.latency.p50} / p99 ${i.batched.latency.p99} / max ${i.batched.latency.max} ms`,
      `${f(i.batched.rps / i.bare.rps, 2)}x`,
    ]);
    rows.push([
      "ingest: hookbuffer (FULL, verify, dedup, stats)",
      `${f(i.hookbuffer.rps)} req/s`,
      `p50 ${i.hookbuffer.latency.p50} / p99 ${i.hookbuffer.latency.p99} / max ${i.hookbuffer.latency.max} ms`,
      `${f(i.ratio, 2)}x (${f(i.ratioVsBatched, 2)}x of per-turn)`,
    ]);
    rows.push(["ingest: acknowledged but not stored", `${i.lost}`, "rows counted against 2xx", ""]);
  }
  for (const d of results.delivery ?? []) {
    rows.push([
      `delivery: plain undici loop, ${d.concurrency} connections`,
      `${f(d.baseline)} ev/s`,
      `CPU/event: loop ${f(d.cpuUs.baseline)} us, upstream ${f(d.cpuUs.baselineUpstream)} us`,
      "1.00x",
    ]);
    rows.push([
      `delivery: hookbuffer, concurrency ${d.concurrency} (attempt rows, stats)`,
      `${f(d.rate)} ev/s`,
      `${d.attemptRows}/${d.events} attempt rows; CPU/event: hookbuffer ${f(d.cpuUs.hookbuffer)} us, upstream ${f(d.cpuUs.hookbufferUpstream)} us`,
      `${f(d.ratio, 2)}x`,
    ]);
  }
  const e = results.endToEnd;
  if (e) {
    rows.push([
      `end to end (concurrency ${e.concurrency}): highest sustained rate`,
      `${e.highestFlat} ev/s`,
      e.rates.map((r) => `${r.rate}:${f(r.achieved)}${r.flat ? "" : "(no)"}`).join(" "),
      "",
    ]);
  }
  const b = results.backlog;
  if (b && i) {
    rows.push([`backlog of ${b.events}: start-up`, `${f(b.startupMs)} ms`, "", ""]);
    rows.push([`backlog of ${b.events}: RSS`, `${f(b.rssAfterLoadMb)} MB`, `idle ${f(b.rssIdleMb)} MB`, ""]);
    rows.push([
      `backlog of ${b.events}: ingest`,
      `${f(b.ingest.rps)} req/s`,
      `p99 ${b.ingest.latency.p99} ms`,
      `${f(b.ingest.rps / i.hookbuffer.rps, 2)}x of empty db`,
    ]);
    rows.push([
      `backlog of ${b.events}: claim next due`,
      `${f(b.firstDeliveryMs, 1)} ms`,
      "resume -> first upstream request",
      "",
    ]);
  }
  const s = results.stats;
  if (s) {
    rows.push([
      "/stats over 30 days of minute buckets",
      `${f(s.statsMs, 1)} ms`,
      `${s.bucketRows} bucket rows`,
      "",
    ]);
    rows.push(["/metrics", `${f(s.metricsMs, 1)} ms`, "", ""]);
  }
  rows.push(...tracingRows(results.tracing));
  const w = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const line = (r) => `| ${r.map((x, c) => String(x).padEnd(w[c])).join(" | ")} |`;
  return [
    line(["measure", "value", "detail", "ratio"]),
    `|${w.map((n) => "-".repeat(n + 2)).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

try {
  const t = performance.now();
  if (want("ingest")) await ingestSection();
  if (want("delivery")) await deliverySection();
  if (want("e2e")) await endToEndSection();
  if (want("backlog")) await backlogSection();
  if (want("stats")) await statsSection();
  if (want("tracing"))
    results.tracing = await tracingSection({ ...P, work, startHookbuffer, admin, warm, load, log });
  results.seconds = (performance.now() - t) / 1000;
  const dir = join(here, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${results.started.replace(/[:.]/g, "-")}-${results.mode}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    `\nhookbuffer bench (${results.mode}, ${results.machine.cpus} cores, ${results.machine.node}, ${f(results.seconds)} s)\n\n${table()}\n\nwritten to ${file}\n`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
