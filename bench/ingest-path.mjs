// What each ingest feature costs per webhook, without HTTP: hookbuffer's own ingestor, writer and
// store (from dist/) on a real database, fed batches of 50 signed LINE bodies as 50 concurrent
// requests would be. One route shape per variant, each adding one feature; variants run in turn,
// round after round, and the figure is the median CPU time per event (process CPU, all threads).
// Each variant also reports the WAL frames written per webhook, by table and index.
// Prints a JSON summary on stdout. Usage: node bench/ingest-path.mjs [events] [rounds] [synchronous]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { loadConfig } from "../dist/config/load.js";
import { createIdFactory } from "../dist/ids.js";
import { createIngestor } from "../dist/ingest/service.js";
import { createQueueCounts, createStore, createWriter, openDatabase } from "../dist/store/index.js";
import { createVerifier } from "../dist/verify/index.js";
import { median } from "./lib/figures.mjs";
import { CHANNEL_SECRET, lineBody, sign } from "./lib/line-body.mjs";

const [events = "10000", rounds = "5", synchronous = "normal"] = process.argv.slice(2);
const N = Number(events);
const BATCH = 50;
const work = mkdtempSync(join(tmpdir(), "hookbuffer-ingest-path-"));
const bodies = Array.from({ length: N }, (_, i) => Buffer.from(lineBody(i)));
const signatures = bodies.map(sign);

const variants = [
  ["store only", ""],
  ["+ verify", `verify: {scheme: line, secret: ${CHANNEL_SECRET}}`],
  ["+ dedup", `verify: {scheme: line, secret: ${CHANNEL_SECRET}}\n    delivery: {dedup: line}`],
  [
    "+ ordering key",
    `verify: {scheme: line, secret: ${CHANNEL_SECRET}}\n    delivery: {dedup: line, ordering: {key: /events/0/source/userId}}`,
  ],
];

function routeOf(extra, k) {
  const file = join(work, `route-${k}.yaml`);
  writeFileSync(
    file,
    `upstream: http://127.0.0.1:9\nroutes:\n  - name: line\n    path: /callback\n    ${extra}\n`,
  );
  return loadConfig({ env: {}, flags: { config: file } }).routes[0];
}

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function run(route, k, r) {
  const opened = openDatabase({ path: join(work, `v${k}-${r}.db`), synchronous, syncOffThread: true });
  const store = createStore(opened.db);
  const writer = createWriter({ db: opened.db, ...(opened.walSync && { sync: opened.walSync.sync }) });
  const clock = { now: () => Date.now() };
  const accept = createIngestor({
    store,
    writer,
    queue: createQueueCounts({ initial: [], writer }),
    clock,
    ids: createIdFactory(),
    log: pino({ level: "silent" }),
    limits: { maxPending: null, maxBytes: null },
    verifiers: route.verify ? new Map([[route.name, createVerifier(route.verify, clock)]]) : new Map(),
    onStored: () => undefined,
  });
  const request = (i) => ({
    method: "POST",
    path: "/callback",
    query: "",
    headers: [
      ["Host", "127.0.0.1:8080"],
      ["Content-Type", "application/json"],
      ["Content-Length", String(bodies[i].length)],
      ["X-Line-Signature", signatures[i]],
    ],
    body: bodies[i],
  });
  const t0 = cpuUs();
  const w0 = performance.now();
  let refused = 0;
  for (let i = 0; i < N; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) batch.push(accept(route, request(j)));
    for (const res of await Promise.all(batch)) if (res.kind !== "accepted") refused++;
  }
  const result = { cpuUs: (cpuUs() - t0) / N, wallUs: ((performance.now() - w0) * 1000) / N, refused };
  await writer.drain();
  result.frames = walFrames(opened.db, join(work, `v${k}-${r}.db-wal`));
  opened.close();
  return result;
}

/**
 * WAL frames (one 4 KiB page each) written per webhook, by the table or index the page belongs to.
 * Nothing checkpoints here, so the WAL holds every frame the run committed; a frame is the unit
 * each COMMIT writes and each checkpoint copies back.
 */
function walFrames(db, walPath) {
  const wal = readFileSync(walPath);
  const pageSize = wal.readUInt32BE(8);
  const owner = new Map(db.prepare("SELECT pageno, name FROM dbstat").raw().all());
  const by = {};
  let total = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    const name = owner.get(wal.readUInt32BE(at)) ?? "(free pages)";
    by[name] = (by[name] ?? 0) + 1;
    total++;
  }
  const perEvent = (n) => Number((n / N).toFixed(3));
  const byTree = Object.entries(by)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => [name, perEvent(n)])
    .filter(([, x]) => x > 0);
  return { perEvent: perEvent(total), byTree: Object.fromEntries(byTree) };
}

try {
  const routes = variants.map(([, extra], k) => routeOf(extra, k));
  const runs = variants.map(() => []);
  await run(routes[0], 0, "warm");
  for (let r = 0; r < Number(rounds); r++)
    for (let k = 0; k < variants.length; k++) runs[k].push(await run(routes[k], k, r));
  const out = variants.map(([name], k) => {
    const cpu = runs[k].map((x) => x.cpuUs);
    return {
      name,
      cpuUs: median(cpu),
      min: Math.min(...cpu),
      max: Math.max(...cpu),
      refused: runs[k].reduce((s, x) => s + x.refused, 0),
      // The same in every round (same events, same order): the last round's.
      walFrames: runs[k].at(-1).frames,
    };
  });
  process.stdout.write(
    `${JSON.stringify({ events: N, rounds: Number(rounds), synchronous, variants: out })}\n`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
