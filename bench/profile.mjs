// Where an ingest request's time goes: runs one server under the ingest bench's load with
// `node --cpu-prof`, then groups the main thread's samples by area and divides by the requests
// answered. The V8 profiler samples wall time on the thread, so a blocking call (a checkpoint's
// fsync, a write syscall) counts for as long as it blocks; start-up (module loading) is left out.
// Usage (after npm run build):
//   node bench/profile.mjs [--server=hookbuffer|group-commit] [--synchronous=normal|full] [--seconds=6]
//     [--cli=path/to/dist/cli.js]
// Prints a table and, last, a JSON line.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { adminCall } from "./lib/admin.mjs";
import { runJson, startServer } from "./lib/proc.mjs";

const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const server = arg("server", "hookbuffer");
const synchronous = arg("synchronous", "normal");
const seconds = arg("seconds", "6");
// Another build's CLI, to compare two builds the same way.
const cli = resolve(arg("cli", resolve(import.meta.dirname, "../dist/cli.js")));
const here = import.meta.dirname;
const work = mkdtempSync(join(tmpdir(), "hookbuffer-profile-"));
const profiles = join(work, "profiles");

/** What the sampled frame itself says, before looking at who called it. */
const LEAF = [
  [/^\(idle\) /, null],
  [/^\(garbage collector\) /, "garbage collection"],
  [/^\(program\) /, "V8: (program)"],
  [/^(writev|writeBuffer|writeUtf8String) /, "Node: socket write syscalls"],
];
/**
 * Areas of the server's own code, matched from the sampled frame up through its callers, skipping
 * Node's internals and natives (HMAC's native call is verification's, a stat is the caller's). A
 * better-sqlite3 statement has no frame of its own: its time lands on the function that ran it.
 */
const AREAS = [
  [
    /\/store\/checkpoint\.js|better-sqlite3\/lib\/methods\/pragma\.js/,
    "SQLite: checkpoint on the main thread",
  ],
  [/^runBatch .*\/store\/writer\.js/, "SQLite: BEGIN, COMMIT (WAL writes), stats upserts"],
  [/\/store\/(identity|fs-space|space)\.js/, "hookbuffer: storage checks (database file, disk space)"],
  [/\/store\/|better-sqlite3/, "SQLite: the statements of each webhook"],
  [/\/verify\//, "hookbuffer: signature verification"],
  [/\/ingest\/keys\.js|\/json-pointer\.js/, "hookbuffer: dedup and ordering keys (JSON parse)"],
  [/\/stats\//, "hookbuffer: stats and metrics"],
  [/node_modules\/hono\//, "Hono: routing and context"],
  [/@hono\/node-server/, "adapter (@hono/node-server)"],
  [/\/bench\/servers\//, "the minimal server's own handler"],
  [/\/dist\//, "hookbuffer: capture, route, ingest service, wake-ups"],
];
const internal = (frame) => / node:/.test(frame) || / $/.test(frame);
const startUp = /node:internal\/modules|node:internal\/bootstrap|^(compileSourceTextModule|evaluate) /;

/** `frames`: the sampled frame first, then its callers. */
function areaOf(frames) {
  for (const [re, area] of LEAF) if (re.test(frames[0] ?? "")) return { area };
  if (frames.some((f) => startUp.test(f))) return { area: null };
  for (const f of frames) {
    if (internal(f)) continue;
    for (const [re, area] of AREAS) if (re.test(f)) return { area };
  }
  return { area: "Node: HTTP parsing, streams, event loop" };
}

function breakdown(file, requests) {
  const p = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n) => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url}`;
  const cache = new Map();
  const us = new Map();
  p.samples.forEach((id, i) => {
    let hit = cache.get(id);
    if (!hit) {
      const frames = [];
      for (let x = id; x !== undefined; x = parent.get(x)) frames.push(name(byId.get(x)));
      hit = areaOf(frames);
      cache.set(id, hit);
    }
    if (hit.area === null) return;
    us.set(hit.area, (us.get(hit.area) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const rows = [...us]
    .map(([area, t]) => ({ area, usPerRequest: t / requests }))
    .sort((a, b) => b.usPerRequest - a.usPerRequest);
  return { rows, total: rows.reduce((s, r) => s + r.usPerRequest, 0) };
}

async function start(db) {
  const prof = ["--cpu-prof", `--cpu-prof-dir=${profiles}`];
  if (server === "group-commit") {
    return startServer(prof[0], [prof[1], join(here, "servers/group-commit.mjs")], {
      SYNC: synchronous,
      DB: db,
    });
  }
  const config = join(work, "config.yaml");
  writeFileSync(
    config,
    `upstream: http://127.0.0.1:9
routes:
  - name: line
    path: /callback
    verify: {scheme: line, secret: bench-channel-secret}
    delivery: {dedup: line, concurrency: 8, ordering: {key: /events/0/source/userId}}
log: {level: warn}
`,
  );
  const s = await startServer(prof[0], [
    prof[1],
    cli,
    ...["--config", config, "--db", db, "--synchronous", synchronous],
    ...["--host", "127.0.0.1", "--port", "0", "--admin-port", "0", "--log-level", "info"],
  ]);
  // Paused, as in the ingest bench: only ingest runs.
  await adminCall(`http://127.0.0.1:${s.adminPort}`, "POST", "/routes/line/pause");
  return s;
}

try {
  const s = await start(join(work, "profile.db"));
  const url = `http://127.0.0.1:${s.port}/callback`;
  const warm = await runJson(join(here, "load.mjs"), [url, "2", "50", "0", "40000"]);
  const cpu0 = s.cpuMs();
  const load = await runJson(join(here, "load.mjs"), [url, seconds, "50", "0", "100000"]);
  const cpuUs = ((s.cpuMs() - cpu0) * 1000) / load.total;
  await s.stop("SIGTERM"); // --cpu-prof writes its files on a normal exit
  // One file per thread; the main thread's has the most samples.
  const files = readdirSync(profiles).map((f) => join(profiles, f));
  const main = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  const requests = warm.total + load.total;
  const { rows, total } = breakdown(main, requests);
  process.stderr.write(
    `${server}, synchronous ${synchronous}: ${load.rps.toFixed(0)} req/s, p99 ${load.latency.p99} ms, ` +
      `process CPU ${cpuUs.toFixed(0)} us per request (all threads)\n` +
      `main thread, per request (${requests} requests, warm-up included):\n` +
      rows.map((r) => `  ${r.usPerRequest.toFixed(1).padStart(6)} us  ${r.area}`).join("\n") +
      `\n  ${total.toFixed(1).padStart(6)} us  total\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ server, synchronous, rps: load.rps, p99: load.latency.p99, cpuUs, requests, rows })}\n`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
