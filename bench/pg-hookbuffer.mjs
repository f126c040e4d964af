// hookbuffer itself on PostgreSQL (storage.url), for npm run bench -- --store=postgres:
//   ingest:   the real CLI on a fresh schema with the same route as the SQLite `full` ingest row of
//             bench/run.mjs (LINE verify, LINE dedup, an ordering key, stats; no search index, which
//             is SQLite only), delivery paused through the admin API; and that SQLite row itself,
//             so both run in the same rounds as the minimal servers (bench/postgres.mjs).
//   delivery: N events pre-loaded through the first replica's ingest with the route paused, then
//             resumed on 1 or 2 replicas of the CLI sharing the schema, timed until hookbuffer's
//             queue counts say all N are delivered to a fast local upstream; beside it, the plain
//             undici loop (bench/undici-loop.mjs) posting the same number of bodies to the same
//             upstream just before. CPU per event of every replica and of PostgreSQL.
import { join } from "node:path";
import pg from "pg";
import {
  countRows,
  dropSchema,
  ensureDatabase,
  newSchema,
  postgresCpu,
  postgresCpuBetween,
  url,
} from "./lib/pg-bench-db.mjs";
import { sleep, upstreamState } from "./lib/proc.mjs";

const ROUTE = "line";
/** A route paused or resumed on one replica (admin API). */
const gate = (admin, hb, action) => admin(hb, "POST", `/routes/${ROUTE}/${action}`);

/** The two hookbuffer ingest contenders; `start(where)` gets a SQLite path or a schema name. */
export function hookbufferIngestContenders({ startHookbuffer, admin }) {
  // upstream port 9 is never called: the route is paused before the load starts.
  const paused = async (db) => {
    const hb = await startHookbuffer(db, 9, 8, { synchronous: "full" });
    await gate(admin, hb, "pause");
    return hb;
  };
  return [
    {
      name: "hookbuffer-sqlite",
      label: "hookbuffer on SQLite, full (verify, dedup, ordering key, stats)",
      sqlite: true,
      hookbuffer: true,
      start: paused,
    },
    {
      name: "hookbuffer-pg",
      label: "hookbuffer on PostgreSQL (verify, dedup, ordering key, stats)",
      table: "events",
      hookbuffer: true,
      baselines: ["pg-pg", "hookbuffer-sqlite", "pg-boss"],
      start: (schema) => paused({ url, schema }),
    },
  ];
}

/** One drain: `replicas` CLIs on one schema, route concurrency `concurrency` each. */
async function deliveryRun(deps, concurrency, replicas) {
  const { P, here, startServer, runJson, startHookbuffer, admin, load } = deps;
  const n = P.deliveryN;
  const schema = newSchema(`delivery_${replicas}`);
  const up = await startServer(join(here, "servers/upstream.mjs"));
  const hbs = [];
  // One connection for polling: a new connection per poll would fork a backend each time, CPU
  // counted against the drain.
  const poll = new pg.Client({ connectionString: url });
  await poll.connect();
  try {
    const start = () => startHookbuffer({ url, schema }, up.port, concurrency);
    hbs.push(await start());
    await gate(admin, hbs[0], "pause");
    // Pre-loaded through hookbuffer's own ingest, so the rows carry what webhooks give them
    // (ordering keys, dedup keys); each body is unique, so dedup keeps all n.
    const loaded = await load(hbs[0].port, 1, 0, 50, n);
    const stored = await countRows(schema, "events");
    if (stored !== n) throw new Error(`pre-load stored ${stored} of ${n} events (${loaded.non2xx} not 2xx)`);
    for (let i = 1; i < replicas; i++) hbs.push(await start());

    const upBeforeLoop = await upstreamState(up);
    const baseline = await runJson(join(here, "undici-loop.mjs"), [
      `http://127.0.0.1:${up.port}`,
      String(n),
      String(concurrency),
    ]);
    const upBefore = await upstreamState(up);

    const delivered = async () =>
      Number(
        (
          await poll.query(
            `SELECT coalesce(sum(n), 0) AS n FROM ${schema}.queue_counts WHERE status = 'delivered'`,
          )
        ).rows[0].n,
      );
    const hbCpu0 = hbs.map((h) => h.cpuMs());
    const pgCpu0 = await postgresCpu();
    const t0 = performance.now();
    await Promise.all(hbs.map((h) => gate(admin, h, "resume")));
    while ((await delivered()) < n) {
      if (performance.now() - t0 > 600_000) throw new Error(`not all ${n} delivered after 10 minutes`);
      await sleep(20);
    }
    const seconds = (performance.now() - t0) / 1000;
    const hbCpu = hbs.reduce((s, h, i) => s + h.cpuMs() - hbCpu0[i], 0);
    const pgCpu = postgresCpuBetween(pgCpu0, await postgresCpu());
    const upAfter = await upstreamState(up);
    // The queue counts are hookbuffer's own bookkeeping: check them against the rows.
    const deliveredRows = await countRows(schema, "events", "status = 'delivered'");
    const attemptRows = await countRows(schema, "attempts");
    const perEvent = (ms) => (ms * 1000) / n;
    const rate = n / seconds;
    return {
      concurrency,
      replicas,
      events: n,
      seconds,
      rate,
      baseline: baseline.rate,
      ratio: rate / baseline.rate,
      deliveredRows,
      attemptRows,
      upstreamRequests: upAfter.count - upBefore.count,
      cpuUs: {
        baseline: perEvent(baseline.cpuMs),
        baselineUpstream: perEvent(upBefore.cpuMs - upBeforeLoop.cpuMs),
        hookbuffer: perEvent(hbCpu),
        postgres: perEvent(pgCpu),
        hookbufferUpstream: perEvent(upAfter.cpuMs - upBefore.cpuMs),
      },
    };
  } finally {
    await poll.end();
    await Promise.all(hbs.map((h) => h.stop()));
    await up.stop("SIGKILL");
    await dropSchema(schema);
  }
}

/** Deliveries/s with one and with two replicas, at each of the run's route concurrencies. */
export async function hookbufferDeliverySection(deps) {
  await ensureDatabase();
  const runs = [];
  for (const concurrency of deps.P.concurrencies) {
    for (const replicas of [1, 2]) {
      const d = await deliveryRun(deps, concurrency, replicas);
      deps.log(
        `postgres delivery, ${replicas} replica(s) at concurrency ${concurrency}: ${d.rate.toFixed(0)}/s vs undici loop ${d.baseline.toFixed(0)}/s; ` +
          `CPU per event hookbuffer ${d.cpuUs.hookbuffer.toFixed(0)} us, PostgreSQL ${d.cpuUs.postgres.toFixed(0)} us`,
      );
      runs.push(d);
    }
  }
  return runs;
}

const f = (n, d = 0) => (n === null || n === undefined ? "-" : Number(n).toFixed(d));

/** Rows for the bench table: the undici loop, then each replica count with its ratios. */
export function hookbufferDeliveryRows(runs) {
  const rows = [];
  for (const d of runs ?? []) {
    const one = runs.find((x) => x.concurrency === d.concurrency && x.replicas === 1);
    rows.push([
      `delivery on PostgreSQL: plain undici loop, ${d.concurrency} connections (before ${d.replicas} replica${d.replicas > 1 ? "s" : ""})`,
      `${f(d.baseline)} ev/s`,
      `CPU/event: loop ${f(d.cpuUs.baseline)} us, upstream ${f(d.cpuUs.baselineUpstream)} us`,
      "1.00x",
    ]);
    rows.push([
      `delivery on PostgreSQL: hookbuffer, ${d.replicas} replica${d.replicas > 1 ? "s" : ""}, concurrency ${d.concurrency} each (ordering key, attempt rows, stats)`,
      `${f(d.rate)} ev/s`,
      `${d.events} events; ${d.deliveredRows} delivered rows, ${d.attemptRows} attempt rows, ${d.upstreamRequests} upstream requests; CPU/event: hookbuffer ${f(d.cpuUs.hookbuffer)} us (all replicas), PostgreSQL ${f(d.cpuUs.postgres)} us, upstream ${f(d.cpuUs.hookbufferUpstream)} us`,
      [`${f(d.ratio, 2)}x of the undici loop`, d !== one && one && `${f(d.rate / one.rate, 2)}x of 1 replica`]
        .filter(Boolean)
        .join(", "),
    ]);
  }
  return rows;
}
