// The PostgreSQL figures of npm run bench -- --store=postgres, side by side in one run:
//   ingest: the minimal group-commit server on PostgreSQL through each driver (pg, postgres.js),
//           pg-boss send() behind the same Hono server, and the minimal SQLite group-commit server
//           (synchronous=FULL), rounds interleaved; ratios round by round against the minimal
//           PostgreSQL server (runtime driver) and the minimal SQLite one.
//   driver: client CPU per event of the ingest statement through each driver (pg-driver-cost.mjs).
//   claim:  a SKIP LOCKED drain of 64-row claims per driver, and single-claim latency with
//           1,000,000 pending rows behind a partial index (bench/pg-claim.mjs), also through the
//           PostgreSQL store's own claim (bench/pg-store-claim.mjs); the store's drain, with and
//           without outcomes folded into the next claim (bench/pg-store-drain.mjs).
// The database is HOOKBUFFER_BENCH_PG_URL (default: hookbuffer_bench on 127.0.0.1:5432, created
// when missing); every server writes a schema of its own, dropped afterwards.
import { join } from "node:path";
import { ingestSummary, lostSum, spread } from "./lib/figures.mjs";
import {
  countRows,
  dropSchema,
  ensureDatabase,
  newSchema,
  postgresCpu,
  postgresCpuBetween,
  url,
} from "./lib/pg-bench-db.mjs";
import { hookbufferIngestContenders } from "./pg-hookbuffer.mjs";

/** The driver the PostgreSQL store uses at run time (docs/replicas.md). */
export const RUNTIME_DRIVER = "pg";

/**
 * The ingest contenders, rounds interleaved, and their ratios round by round. `deps` as run.mjs
 * passes them; `startHookbuffer` and `admin` bring hookbuffer itself in (bench/pg-hookbuffer.mjs).
 */
export async function postgresIngestSection(deps) {
  const { P, work, here, startServer, warm, load, log, sqliteRows } = deps;
  await ensureDatabase();
  const contenders = [
    ...["pg", "postgres"].map((driver) => ({
      name: `pg-${driver}`,
      label: `minimal group commit on PostgreSQL, ${driver === "pg" ? "pg" : "postgres.js"}`,
      table: "events",
      start: (schema) =>
        startServer(join(here, "servers/pg-group-commit.mjs"), [], {
          PG_URL: url,
          SCHEMA: schema,
          DRIVER: driver,
        }),
    })),
    {
      name: "pg-boss",
      label: "pg-boss 10 send() per request",
      table: "job",
      start: (schema) => startServer(join(here, "servers/pg-boss.mjs"), [], { PG_URL: url, SCHEMA: schema }),
    },
    {
      name: "sqlite",
      label: "minimal group commit on SQLite, full",
      sqlite: true,
      start: (db) => startServer(join(here, "servers/group-commit.mjs"), [], { SYNC: "full", DB: db }),
    },
    ...hookbufferIngestContenders(deps),
  ];
  const runs = Object.fromEntries(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < P.runs; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + r) % contenders.length];
      const where = c.sqlite ? join(work, `pg-section-${c.name}-${r}.db`) : newSchema(c.name);
      try {
        const s = await c.start(where);
        await warm(s.port);
        const count = () => (c.sqlite ? sqliteRows(where) : countRows(where, c.table));
        const before = await count();
        const cpu0 = s.cpuMs();
        const pg0 = c.sqlite ? null : await postgresCpu();
        const res = await load(s.port, P.seconds);
        const perRequest = (ms) => (ms * 1000) / Math.max(1, res.total);
        const cpuUs = perRequest(s.cpuMs() - cpu0);
        // PostgreSQL's CPU for the bench database (lib/pg-bench-db.mjs).
        const pgCpuUs = c.sqlite ? null : perRequest(postgresCpuBetween(pg0, await postgresCpu()));
        await s.stop(c.hookbuffer ? "SIGTERM" : "SIGKILL");
        const stored = (await count()) - before;
        runs[c.name].push({ round: r, ...res, cpuUs, pgCpuUs, stored, lost: Math.max(0, res.ok - stored) });
      } finally {
        if (!c.sqlite) await dropSchema(where);
      }
    }
    log(
      `postgres ingest round ${r + 1}: ${contenders.map((c) => `${c.name} ${runs[c.name][r].rps.toFixed(0)}/s`).join(", ")}`,
    );
  }
  const ratio = (a, b) => spread(runs[a].map((x, i) => x.rps / runs[b][i].rps));
  const ingest = contenders.map((c) => {
    const xs = runs[c.name];
    return {
      name: c.name,
      label: c.label,
      ...ingestSummary(xs),
      pgCpuUs: c.sqlite ? null : spread(xs.map((x) => x.pgCpuUs)),
      lost: lostSum(xs),
      // Each ratio against its baseline, named: the row prints them in this order.
      ratios: Object.fromEntries(
        (c.baselines ?? [`pg-${RUNTIME_DRIVER}`, "sqlite"]).map((b) => [b, ratio(c.name, b)]),
      ),
    };
  });
  return { url: url.replace(/:[^:@/]*@/, ":***@"), runs, ingest };
}

/** The driver cost, the SKIP LOCKED drains and the claim latencies. */
export async function postgresClaimSection({ quick, here, runJson, log }) {
  await ensureDatabase();
  const claimArgs = { PG_URL: url };
  const driverCost = await runJson(
    join(here, "pg-driver-cost.mjs"),
    [quick ? "2" : "6", "200", "50"],
    claimArgs,
  );
  log(
    `postgres driver CPU per stored event: ${Object.entries(driverCost.summary)
      .map(([d, x]) => `${d} ${x.cpuUs.toFixed(1)} us`)
      .join(", ")}`,
  );
  const drainRows = quick ? 50_000 : 200_000;
  const drains = [];
  for (const driver of ["pg", "postgres"]) {
    const d = await runJson(
      join(here, "pg-claim.mjs"),
      ["drain", driver, String(drainRows), "4", "64"],
      claimArgs,
    );
    log(`postgres drain, ${driver}: ${d.rate.toFixed(0)} deliveries/s`);
    drains.push(d);
  }
  // The store's own claim path: two statements per batch, and folded (outcomes + next claim).
  const storeDrains = [];
  for (const mode of ["two", "folded"]) {
    const d = await runJson(
      join(here, "pg-store-drain.mjs"),
      [String(drainRows), "4", "64", mode],
      claimArgs,
    );
    log(`postgres store drain, ${mode}: ${d.rate.toFixed(0)} deliveries/s`);
    storeDrains.push(d);
  }
  const pending = quick ? 100_000 : 1_000_000;
  const latency = [];
  for (const limit of [1, 64]) {
    const l = await runJson(
      join(here, "pg-claim.mjs"),
      ["latency", RUNTIME_DRIVER, String(pending), quick ? "300" : "1000", String(limit)],
      claimArgs,
    );
    log(
      `postgres claim of ${limit} at ${pending} pending: p99 ${l.syncOff.p99.toFixed(2)} ms (async commit)`,
    );
    latency.push(l);
  }
  // The store's own claim (src/store/postgres/events.ts), per-key order check included.
  const storeClaim = await runJson(
    join(here, "pg-store-claim.mjs"),
    [String(pending), quick ? "300" : "1000", "1,64"],
    claimArgs,
  );
  for (const l of storeClaim.byLimit) {
    log(`postgres store claim of ${l.limit} at ${pending} pending: p99 ${l.p99.toFixed(2)} ms`);
  }
  return { driverCost, drains, storeDrains, latency, storeClaim };
}

const f = (n, d = 0) => (n === null || n === undefined ? "-" : Number(n).toFixed(d));
const range = (x, d = 0) => `${f(x.median, d)} (${f(x.min, d)}-${f(x.max, d)})`;

/** How a ratio's baseline is named in the table, by contender name. */
const BASELINES = {
  [`pg-${RUNTIME_DRIVER}`]: `PG minimal (${RUNTIME_DRIVER})`,
  sqlite: "SQLite minimal",
  "pg-boss": "pg-boss",
  "hookbuffer-sqlite": "hookbuffer on SQLite",
};

/** Rows for the bench table. */
export function postgresRows(p) {
  if (!p) return [];
  const rows = (p.ingest ?? []).map((x) => [
    `ingest: ${x.label}`,
    `${range(x.rps)} req/s`,
    `p50 ${range(x.p50)} / p99 ${range(x.p99)} ms; CPU ${range(x.cpuUs)} us/req${x.pgCpuUs ? `, PostgreSQL ${range(x.pgCpuUs)} us/req` : ""}; acked, not stored: ${x.lost}${x.non2xx ? `; errors or not 2xx: ${x.non2xx}` : ""}`,
    Object.entries(x.ratios)
      .map(([b, r]) => `${range(r, 2)}x of ${BASELINES[b] ?? b}`)
      .join(", "),
  ]);
  for (const [driver, x] of Object.entries(p.driverCost?.summary ?? {})) {
    rows.push([
      `ingest statement without HTTP, ${p.driverCost.batch}-row batches, ${driver}`,
      `${f(x.cpuUs, 1)} us/event`,
      `client CPU, median of ${p.driverCost.rounds} alternating rounds; ${f(x.msPerBatch, 2)} ms per batch`,
      `${f(x.cpuUs / p.driverCost.summary[RUNTIME_DRIVER].cpuUs, 2)}x`,
    ]);
  }
  const drainPg = p.drains?.find((d) => d.driver === RUNTIME_DRIVER);
  for (const d of p.drains ?? []) {
    rows.push([
      `claim: SKIP LOCKED drain, ${d.workers} x 64-row claims + mark delivered, ${d.driver}`,
      `${f(d.rate)} deliveries/s`,
      `${d.delivered} rows of 1 KiB; CPU/delivery: client ${f(d.cpuUs.client)} us, PostgreSQL ${f(d.cpuUs.postgres)} us`,
      `${f(d.rate / drainPg.rate, 2)}x`,
    ]);
  }
  for (const d of p.storeDrains ?? []) {
    rows.push([
      `claim: the store's drain, ${d.workers} x ${d.limit}-row claims, ${d.mode === "folded" ? "outcomes folded into the next claim" : "claim + outcomes"}`,
      `${f(d.rate)} deliveries/s`,
      `${d.delivered} rows of 1 KiB; CPU/delivery: client ${f(d.cpuUs.client)} us, PostgreSQL ${f(d.cpuUs.postgres)} us`,
      `${f(d.rate / drainPg.rate, 2)}x of the minimal drain`,
    ]);
  }
  for (const l of p.latency ?? []) {
    rows.push([
      `claim: ${l.limit}-row claim at ${l.pending} pending (partial index), ${l.driver}`,
      `p99 ${f(l.syncOff.p99, 2)} ms`,
      `p50 ${f(l.syncOff.p50, 2)} ms with synchronous_commit off for the lease; on: p50 ${f(l.syncOn.p50, 2)} / p99 ${f(l.syncOn.p99, 2)} ms; ${l.claims} claims`,
      "",
    ]);
  }
  for (const l of p.storeClaim?.byLimit ?? []) {
    rows.push([
      `claim: the store's claim of ${l.limit} at ${p.storeClaim.pending} pending, 100 ordering keys`,
      `p99 ${f(l.p99, 2)} ms`,
      `p50 ${f(l.p50, 2)} ms, synchronous_commit on; ${l.claims} claims, ${l.claimed} events`,
      "",
    ]);
  }
  return rows;
}
