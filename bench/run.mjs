// npm run bench [-- --quick] [--only=ingest,path,delivery,e2e,backlog,stats,tracing,search] [--delivery-thread=false]
// npm run bench -- --store=postgres [--quick] [--only=pgingest,pgdelivery,pgclaim]: hookbuffer on
// PostgreSQL beside the PostgreSQL baselines (bench/postgres.mjs, bench/pg-hookbuffer.mjs).
// hookbuffer's figures side by side with baselines measured in the same
// run, as ratios. Every server is its own process; the load generator is another. Writes a JSON
// file to bench/results/ and prints a table.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { adminCall } from "./lib/admin.mjs";
import { ingestSummary, lostSum, median, spread } from "./lib/figures.mjs";
import { runJson, sleep, startServer, upstreamState } from "./lib/proc.mjs";
import { seedEvents, seedStats } from "./lib/seed.mjs";
import { hookbufferDeliveryRows, hookbufferDeliverySection } from "./pg-hookbuffer.mjs";
import { postgresClaimSection, postgresIngestSection, postgresRows } from "./postgres.mjs";
import { searchRows, searchSection } from "./search.mjs";
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
const store = process.argv.find((a) => a.startsWith("--store="))?.slice(8) ?? "sqlite";
if (store !== "sqlite" && store !== "postgres")
  throw new Error(`--store must be sqlite or postgres, not ${store}`);
// --delivery-thread=false measures replay from the main thread instead of the delivery thread.
const deliveryThread = !process.argv.includes("--delivery-thread=false");
const here = import.meta.dirname;
const CLI = resolve(here, "../dist/cli.js");
const work = mkdtempSync(join(tmpdir(), "hookbuffer-bench-"));
const results = {
  machine: machine(),
  mode: quick ? "quick" : "full",
  store,
  deliveryThread,
  started: new Date().toISOString(),
};
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

/**
 * hookbuffer with every ingest feature on: a LINE-verified route, LINE dedup, an ordering key,
 * stats and metrics (always on). `extra` is YAML appended at the top level.
 */
function hookbufferConfig(upstreamPort, concurrency = 8, extra = "") {
  const path = join(work, `config-${upstreamPort}-${concurrency}-${configs++}.yaml`);
  writeFileSync(
    path,
    `upstream: http://127.0.0.1:${upstreamPort}
routes:
  - name: line
    path: /callback
    verify: {scheme: line, secret: bench-channel-secret}
    delivery: {dedup: line, concurrency: ${concurrency}, ordering: {key: /events/0/source/userId}}
log: {level: warn}
delivery_thread: ${deliveryThread}
${extra}`,
  );
  return path;
}
let configs = 0;

/**
 * `db` is the SQLite file, or `{ url, schema }` for PostgreSQL (storage.url and storage.schema,
 * where the SQLite-only `synchronous` does not apply).
 */
async function startHookbuffer(db, upstreamPort, concurrency = 8, { synchronous = "full", extra = "" } = {}) {
  const storage =
    typeof db === "string"
      ? { args: ["--db", db, "--synchronous", synchronous], yaml: "" }
      : { args: [], yaml: `storage: {url: "${db.url}", schema: ${db.schema}}\n` };
  return startServer(CLI, [
    "--config",
    hookbufferConfig(upstreamPort, concurrency, storage.yaml + extra),
    ...storage.args,
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

const admin = (hb, method, path) => adminCall(`http://127.0.0.1:${hb.adminPort}`, method, path);
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
/** `amount`: exactly that many requests, whatever the duration (to pre-load a queue). */
const load = (port, seconds, rate = 0, connections = 50, amount = 0) =>
  runJson(join(here, "load.mjs"), [
    `http://127.0.0.1:${port}/callback`,
    String(seconds),
    String(connections),
    String(rate),
    String(Math.max(50_000, Math.round((rate || 20_000) * seconds * 1.3))),
    String(amount),
  ]);

const countRows = (db) => {
  const conn = new Database(db);
  try {
    return conn.prepare("SELECT COUNT(*) FROM events").pluck().get();
  } finally {
    conn.close();
  }
};

/**
 * The ingest contenders, each measured once per round, rounds interleaved so a slow stretch of a
 * shared machine hits all of them alike. `start(db)` resolves to a started server; contenders that
 * store (`stores: true`) have their rows counted against the 2xx answers. Add a contender here.
 */
const ingestContenders = [
  {
    name: "bare",
    label: "bare Hono, c.req.arrayBuffer()",
    start: () => startServer(join(here, "servers/bare-hono.mjs")),
  },
  {
    name: "bareIncoming",
    label: "bare Hono, body read from IncomingMessage",
    start: () => startServer(join(here, "servers/bare-hono.mjs"), [], { READ: "incoming" }),
  },
  ...["full", "normal"].flatMap((sync) => [
    {
      name: `groupCommit-${sync}`,
      label: `minimal group commit, ${sync}`,
      sync,
      stores: true,
      start: (db) => startServer(join(here, "servers/group-commit.mjs"), [], { SYNC: sync, DB: db }),
    },
    {
      name: `hookbuffer-${sync}`,
      label: `hookbuffer, ${sync} (verify, dedup, ordering key, stats)`,
      sync,
      stores: true,
      hookbuffer: true,
      start: async (db) => {
        const hb = await startHookbuffer(db, 9, 8, { synchronous: sync }); // upstream unused:
        await admin(hb, "POST", "/routes/line/pause"); // the route is paused
        return hb;
      },
    },
  ]),
];

async function ingestSection() {
  const runs = Object.fromEntries(ingestContenders.map((c) => [c.name, []]));
  for (let r = 0; r < P.runs; r++) {
    // Each round starts one further along the list, so no contender always runs first or last.
    for (let k = 0; k < ingestContenders.length; k++) {
      const c = ingestContenders[(k + r) % ingestContenders.length];
      const db = join(work, `ingest-${c.name}-${r}.db`);
      const s = await c.start(db);
      await warm(s.port);
      const before = c.stores ? countRows(db) : 0;
      const cpu0 = s.cpuMs();
      const res = await load(s.port, P.seconds);
      // The server's CPU time (all threads) per answered request: less at the mercy of other load
      // on the machine than the rate is.
      const cpuUs = ((s.cpuMs() - cpu0) * 1000) / Math.max(1, res.total);
      await s.stop(c.hookbuffer ? "SIGTERM" : "SIGKILL");
      const run = { round: r, ...res, cpuUs };
      if (c.stores) {
        run.stored = countRows(db) - before;
        run.lost = Math.max(0, res.ok - run.stored);
      }
      runs[c.name].push(run);
    }
    log(
      `ingest round ${r + 1}: ${ingestContenders.map((c) => `${c.name} ${runs[c.name][r].rps.toFixed(0)}/s`).join(", ")}`,
    );
  }
  const summary = {};
  for (const c of ingestContenders) {
    const xs = runs[c.name];
    summary[c.name] = {
      label: c.label,
      ...ingestSummary(xs),
      ...(c.stores && { lost: lostSum(xs) }),
    };
  }
  // Ratios round by round (both figures from the same stretch of time), then their median.
  const ratio = (a, b) => spread(runs[a].map((x, i) => x.rps / runs[b][i].rps));
  results.ingest = { runs, summary, ratios: { bareIncoming: { bare: ratio("bareIncoming", "bare") } } };
  for (const c of ingestContenders.filter((x) => x.hookbuffer)) {
    results.ingest.ratios[c.name] = {
      bare: ratio(c.name, "bare"),
      groupCommit: ratio(c.name, `groupCommit-${c.sync}`),
    };
  }
}

/** CPU per webhook of the ingest path without HTTP, one feature added per variant. */
async function ingestPathSection() {
  results.ingestPath = await runJson(join(here, "ingest-path.mjs"), [
    quick ? "5000" : "20000",
    quick ? "1" : "5",
    "normal",
  ]);
  log(
    `ingest path: ${results.ingestPath.variants.map((v) => `${v.name} ${v.cpuUs.toFixed(0)} us`).join(", ")}`,
  );
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
    const range = (x, d = 0) => `${f(x.median, d)} (${f(x.min, d)}-${f(x.max, d)})`;
    for (const c of ingestContenders) {
      const x = i.summary[c.name];
      const r = i.ratios[c.name];
      rows.push([
        `ingest: ${x.label}`,
        `${range(x.rps)} req/s`,
        `p50 ${range(x.p50)} / p99 ${range(x.p99)} ms; CPU ${range(x.cpuUs)} us/req${x.lost === undefined ? "" : `; acked, not stored: ${x.lost}`}${x.non2xx ? `; errors or not 2xx: ${x.non2xx}` : ""}`,
        [r?.groupCommit && `${range(r.groupCommit, 2)}x of group commit`, r && `${range(r.bare, 2)}x of bare`]
          .filter(Boolean)
          .join(", "),
      ]);
    }
  }
  for (const v of results.ingestPath?.variants ?? []) {
    rows.push([
      `ingest path without HTTP: ${v.name}`,
      `${f(v.cpuUs)} us/event`,
      `CPU per event, median of ${results.ingestPath.rounds} (${f(v.min)}-${f(v.max)}), synchronous ${results.ingestPath.synchronous}; ${f(v.walFrames.perEvent, 2)} WAL frames/event`,
      "",
    ]);
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
  if (b) {
    rows.push([`backlog of ${b.events}: start-up`, `${f(b.startupMs)} ms`, "", ""]);
    rows.push([`backlog of ${b.events}: RSS`, `${f(b.rssAfterLoadMb)} MB`, `idle ${f(b.rssIdleMb)} MB`, ""]);
    rows.push([
      `backlog of ${b.events}: ingest`,
      `${f(b.ingest.rps)} req/s`,
      `p99 ${b.ingest.latency.p99} ms`,
      i ? `${f(b.ingest.rps / i.summary["hookbuffer-full"].rps.median, 2)}x of empty db` : "",
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
  rows.push(...searchRows(results.search));
  rows.push(...postgresRows(results.postgres));
  rows.push(...hookbufferDeliveryRows(results.postgresDelivery));
  const w = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const line = (r) => `| ${r.map((x, c) => String(x).padEnd(w[c])).join(" | ")} |`;
  return [
    line(["measure", "value", "detail", "ratio"]),
    `|${w.map((n) => "-".repeat(n + 2)).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

/** The sections, in running order, by their --only= name. A new section is one more entry. */
const sections = [
  ["ingest", ingestSection],
  ["path", ingestPathSection],
  ["delivery", deliverySection],
  ["e2e", endToEndSection],
  ["backlog", backlogSection],
  ["stats", statsSection],
  [
    "tracing",
    async () => {
      results.tracing = await tracingSection({ ...P, work, startHookbuffer, admin, warm, load, log });
    },
  ],
  [
    "search",
    async () => {
      const deps = { events: P.backlog, runs: 5, work, startServer, cli: CLI, log };
      results.search = await searchSection(deps);
    },
  ],
];

/**
 * With --store=postgres: hookbuffer on PostgreSQL beside the PostgreSQL baselines and the minimal
 * SQLite server, in the same run (bench/postgres.mjs, bench/pg-hookbuffer.mjs).
 */
const postgresSections = [
  [
    "pgingest",
    async () => {
      const deps = {
        P,
        work,
        here,
        startServer,
        warm,
        load,
        log,
        sqliteRows: countRows,
        startHookbuffer,
        admin,
      };
      results.postgres = { ...results.postgres, ...(await postgresIngestSection(deps)) };
    },
  ],
  [
    "pgdelivery",
    async () => {
      const deps = { P, here, startServer, runJson, startHookbuffer, admin, load, log };
      results.postgresDelivery = await hookbufferDeliverySection(deps);
    },
  ],
  [
    "pgclaim",
    async () => {
      results.postgres = {
        ...results.postgres,
        ...(await postgresClaimSection({ quick, here, runJson, log })),
      };
    },
  ],
];

try {
  const t = performance.now();
  for (const [name, section] of store === "postgres" ? postgresSections : sections) {
    if (want(name)) await section();
  }
  results.seconds = (performance.now() - t) / 1000;
  const dir = join(here, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(
    dir,
    `${results.started.replace(/[:.]/g, "-")}-${results.mode}${store === "postgres" ? "-postgres" : ""}.json`,
  );
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    `\nhookbuffer bench (${results.mode}, ${results.machine.cpus} cores, ${results.machine.node}, ${f(results.seconds)} s)\n\n${table()}\n\nwritten to ${file}\n`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
