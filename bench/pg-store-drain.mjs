// Deliveries/s of the PostgreSQL store's own claim path (dist/store/postgres), without HTTP:
// ROWS pending events (1 KiB bodies, no ordering key) drained by WORKERS loops of LIMIT-row claims,
// each batch recorded delivered, either as two statements per batch (claim, then recordOutcomes)
// or folded (settleAndClaim: the outcomes of one batch and the next claim in one statement).
// Usage: node bench/pg-store-drain.mjs <rows> <workers> <limit> <two|folded>; PG_URL is the
// database. Prints JSON: rate, and CPU per delivery of this process and of PostgreSQL.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import { createPgClaimQueries, createPostgresPool, migratePostgres } from "../dist/store/postgres/index.js";
import { cpuMs } from "./lib/proc.mjs";

const [rowsArg, workersArg = "4", limitArg = "64", mode = "two"] = process.argv.slice(2);
const url = process.env.PG_URL;
const [rows, workers, limit] = [Number(rowsArg), Number(workersArg), Number(limitArg)];
const schema = `hb_bench_drain_${randomBytes(4).toString("hex")}`;
const pool = await createPostgresPool({ url, schema, max: workers });

function postgresCpuMs() {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "postgres") total += cpuMs(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

const delivered = (e) => ({
  seq: e.seq,
  status: "delivered",
  attempts: e.attempts + 1,
  nextAttemptAt: e.nextAttemptAt,
  lastReason: null,
  lastDetail: null,
  lastStatus: 200,
  deliveredAt: Date.now(),
  finishedAt: Date.now(),
  responseBytes: 0,
});

try {
  await migratePostgres(pool);
  await pool.query(`INSERT INTO events (id, route, received_at, method, path, query, headers, body,
      body_size, status, next_attempt_at, schedule_start)
    SELECT 'ev' || g, 'line', 0, 'POST', '/callback', '', '[["content-type","application/json"]]',
      convert_to(repeat('x', 1024), 'UTF8'), 1024, 'pending', g, 0
    FROM generate_series(1, ${rows}) g`);
  await pool.query("VACUUM ANALYZE events");
  const q = createPgClaimQueries(pool);
  let count = 0;
  const cpu0 = cpuMs(process.pid);
  const pgCpu0 = postgresCpuMs();
  const t = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const owner = `worker-${w}`;
      if (mode === "folded") {
        let held = [];
        for (;;) {
          const r = await q.settleAndClaim(owner, held.map(delivered), "line", 30_000, limit);
          count += r.settled.length;
          if (r.claimed.length === 0) return;
          held = r.claimed;
        }
      }
      for (;;) {
        const got = await q.claim("line", owner, 30_000, limit);
        if (got.length === 0) return;
        // Awaited first: \`count += await x\` would read count before the await and lose updates.
        const recorded = await q.recordOutcomes(owner, got.map(delivered));
        count += recorded.length;
      }
    }),
  );
  const seconds = (performance.now() - t) / 1000;
  const per = (ms) => (ms * 1000) / count;
  process.stdout.write(
    `${JSON.stringify({ mode, rows, workers, limit, delivered: count, seconds, rate: count / seconds, cpuUs: { client: per(cpuMs(process.pid) - cpu0), postgres: per(postgresCpuMs() - pgCpu0) } })}\n`,
  );
} finally {
  await pool.end();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`DROP SCHEMA ${schema} CASCADE`);
  await c.end();
}
