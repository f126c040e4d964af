// Search over a large store, from npm run bench (--only=search): 1,000,000 LINE-shaped events
// seeded straight into SQLite, then GET /events timed for filters an index serves and for ones that
// scan, and the ack latency of webhooks sent while a full scan runs. The route indexes
// /events/0/source/userId (routes[].index), so the same pointer is timed with and without it.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../dist/store/open.js";
import { adminCall } from "./lib/admin.mjs";
import { median } from "./lib/figures.mjs";
import { lineBody } from "./lib/line-body.mjs";

const USERS = 10_000;
const userId = (i) => `U${String(i % USERS).padStart(32, "0")}`;

/** `n` finished events (1 % dead), one per millisecond, users round robin, in 10,000-row transactions. */
function seed(path, n) {
  const { db, close } = openDatabase({ path, synchronous: "normal" });
  const insert = db.prepare(
    `INSERT INTO events (id, route, received_at, method, path, query, headers, body, body_size, status,
       attempts, next_attempt_at, schedule_start, last_status, delivered_at, finished_at)
     VALUES (?, 'line', ?, 'POST', '/callback', '', ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
  );
  const start = Date.now() - n;
  const chunk = db.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      const body = lineBody(i).replace(/U0{28}\d{4}/, userId(i));
      const dead = i % 100 === 7;
      const at = start + i;
      const headers = JSON.stringify([
        ["Content-Type", "application/json"],
        ["X-Line-Signature", `sig${i % 1000}`],
      ]);
      const id = `01SRCH${String(i).padStart(20, "0")}`;
      insert.run(
        id,
        at,
        headers,
        Buffer.from(body),
        Buffer.byteLength(body),
        dead ? "dead" : "delivered",
        at,
        at,
        dead ? 503 : 200,
        dead ? null : at,
        at,
      );
    }
  });
  for (let i = 0; i < n; i += 10_000) chunk(i, Math.min(n, i + 10_000));
  db.pragma("wal_checkpoint(TRUNCATE)");
  close();
}

/**
 * deps: the harness's process helpers. `events` is how many to seed (1,000,000 in a full run).
 */
export async function searchSection({ events, runs, work, startServer, cli, log }) {
  const db = join(work, "search.db");
  const t0 = performance.now();
  seed(db, events);
  const seedSeconds = (performance.now() - t0) / 1000;
  log(`search: seeded ${events} events in ${seedSeconds.toFixed(0)} s`);
  const config = join(work, "search.yaml");
  writeFileSync(
    config,
    `upstream: http://127.0.0.1:9
routes:
  - name: line
    path: /callback
    index: [/events/0/source/userId]
log: {level: warn}
`,
  );
  const args = [
    ...["--config", config, "--db", db, "--host", "127.0.0.1", "--port", "0", "--admin-port", "0"],
    ...["--log-level", "info"],
  ];
  // The first start builds the expression index over every row; the second finds it there.
  const building = await startServer(cli, args, {}, 600_000);
  const buildMs = building.startupMs;
  await building.stop();
  const hb = await startServer(cli, args, {}, 600_000);
  const base = `http://127.0.0.1:${hb.adminPort}`;
  const get = async (query) => {
    const t = performance.now();
    const res = await fetch(`${base}/events?${query}`);
    const body = await res.json();
    if (!res.ok) throw new Error(`GET /events?${query}: ${JSON.stringify(body)}`);
    return { ms: performance.now() - t, body };
  };
  /** Median of `n` runs after one unmeasured run (`n` 1: a single cold run, for the longest scans). */
  const time = async (query, n = runs) => {
    if (n > 1) await get(query);
    const ms = [];
    let last;
    for (let i = 0; i < n; i++) {
      last = await get(query);
      ms.push(last.ms);
    }
    const x = last.body.explain;
    return {
      query,
      ms: median(ms),
      found: last.body.events.length,
      scan: x.scan,
      index: x.index,
      rowsScanned: x.rows_scanned,
      partial: x.partial,
    };
  };
  const someUser = userId(4242);
  const oldest = String(1e15); // the first event's message id (lineBody: 1e15 + i)
  const queries = [
    [
      "body pointer, indexed (route + userId)",
      `route=line&json=/events/0/source/userId:${someUser}&limit=50`,
    ],
    [
      "body pointer prefix, indexed",
      `route=line&json=/events/0/source/userId:${someUser.slice(0, 30)}*&limit=50`,
    ],
    ["status=dead", "status=dead&limit=50"],
    [
      "body pointer, no index (first page, default budget)",
      `json=/events/0/source/userId:${someUser}&limit=50`,
    ],
    ["header, no index (first page, default budget)", "header=x-line-signature:sig42&limit=50"],
    [
      "body pointer, no index, whole table (rare value)",
      `json=/events/0/message/id:${oldest}&limit=50&scan_budget=${events + 10}`,
    ],
  ];
  const rows = [];
  for (const [label, q] of queries) {
    const r = await time(q, q.includes("scan_budget") ? 1 : runs);
    rows.push({ label, ...r });
    log(
      `search: ${label}: ${r.ms.toFixed(1)} ms, ${r.found} found, scan ${r.scan}${r.scan ? `, ${r.rowsScanned} rows${r.partial ? ", partial" : ""}` : `, index ${r.index}`}`,
    );
  }

  // Acks while a whole-table scan runs, against acks with nothing else going on.
  await adminCall(base, "POST", "/routes/line/pause");
  const acks = async (work) => {
    let done = false;
    const finished = work().finally(() => {
      done = true;
    });
    const latencies = [];
    for (let i = 0; !done; i++) {
      const t = performance.now();
      const res = await fetch(`http://127.0.0.1:${hb.port}/callback`, { method: "POST", body: lineBody(i) });
      await res.arrayBuffer();
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 10));
    }
    await finished;
    latencies.sort((a, b) => a - b);
    return {
      n: latencies.length,
      p50: latencies[Math.floor(latencies.length / 2)],
      p99: latencies[Math.floor(latencies.length * 0.99)],
      max: latencies[latencies.length - 1],
    };
  };
  const wholeScan = queries[queries.length - 1][1];
  const idle = await acks(() => new Promise((r) => setTimeout(r, 3000)));
  const duringScan = await acks(() => get(wholeScan));
  log(
    `search: acks idle p99 ${idle.p99.toFixed(1)} / max ${idle.max.toFixed(1)} ms; during a full scan p99 ${duringScan.p99.toFixed(1)} / max ${duringScan.max.toFixed(1)} ms (${duringScan.n} acks)`,
  );
  await hb.stop();
  return {
    events,
    seedSeconds,
    indexBuildMs: buildMs,
    startupMs: hb.startupMs,
    queries: rows,
    acks: { idle, duringScan },
  };
}

const f = (n, d = 0) => (n === null || n === undefined ? "-" : Number(n).toFixed(d));

/** Table rows for the harness. */
export function searchRows(s) {
  if (!s) return [];
  return [
    [
      `search over ${s.events}: start-up building the index`,
      `${f(s.indexBuildMs)} ms`,
      `then ${f(s.startupMs)} ms with it`,
      "",
    ],
    ...s.queries.map((q) => [
      `search over ${s.events}: ${q.label}`,
      `${f(q.ms, 1)} ms`,
      q.scan
        ? `scan, ${q.rowsScanned} rows${q.partial ? ", partial" : ""}; ${q.found} found`
        : `index ${q.index}; ${q.found} found`,
      "",
    ]),
    [
      `search over ${s.events}: ack latency during a whole-table scan`,
      `p99 ${f(s.acks.duringScan.p99, 1)} ms`,
      `max ${f(s.acks.duringScan.max, 1)} ms over ${s.acks.duringScan.n} acks; idle p99 ${f(s.acks.idle.p99, 1)} / max ${f(s.acks.idle.max, 1)} ms`,
      "",
    ],
  ];
}
