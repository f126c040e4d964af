// Deliveries/s of the PostgreSQL store's own claim path (dist/store/postgres), without HTTP:
// ROWS pending events (1 KiB bodies, no ordering key) drained by WORKERS loops of LIMIT-row claims,
// each batch recorded delivered, either as two statements per batch (claim, then recordOutcomes)
// or folded (settleAndClaim: the outcomes of one batch and the next claim in one statement).
// Usage: node bench/pg-store-drain.mjs <rows> <workers> <limit> <two|folded>; PG_URL is the
// database. Prints JSON: rate, WAL bytes and CPU per delivery (this process, PostgreSQL).
// Storage experiments on the migrated table: TOAST_BODIES=1 moves bodies out of the row (so claim
// and outcome updates do not copy them), FILLFACTOR=70 leaves room for HOT claim updates.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createPgClaimQueries, createPostgresPool, migratePostgres } from "../dist/store/postgres/index.js";
import { delivered } from "./lib/pg-outcome.mjs";
import { cpuMs, postgresCpuMs } from "./lib/proc.mjs";

const [rowsArg, workersArg = "4", limitArg = "64", mode = "two"] = process.argv.slice(2);
const url = process.env.PG_URL;
const [rows, workers, limit] = [Number(rowsArg), Number(workersArg), Number(limitArg)];
const schema = `hb_bench_drain_${randomBytes(4).toString("hex")}`;
const pool = await createPostgresPool({ url, schema, max: workers });

try {
  await migratePostgres(pool);
  if (process.env.TOAST_BODIES) {
    await pool.query("ALTER TABLE events SET (toast_tuple_target = 128)");
    await pool.query("ALTER TABLE events ALTER COLUMN body SET STORAGE EXTERNAL");
  }
  if (process.env.FILLFACTOR)
    await pool.query(`ALTER TABLE events SET (fillfactor = ${Number(process.env.FILLFACTOR)})`);
  await pool.query(`INSERT INTO events (id, route, received_at, method, path, query, headers, body,
      body_size, status, next_attempt_at, schedule_start)
    SELECT 'ev' || g, 'line', 0, 'POST', '/callback', '', '[["content-type","application/json"]]',
      convert_to(repeat('x', 1024), 'UTF8'), 1024, 'pending', g, 0
    FROM generate_series(1, ${rows}) g`);
  await pool.query("VACUUM ANALYZE events");
  const q = createPgClaimQueries(pool);
  let count = 0;
  // WAL written per delivery: what each claim and outcome rewrites, unaffected by machine load
  // (the server's whole WAL, so other databases' writes meanwhile count too).
  const lsn = async () => (await pool.query("SELECT pg_current_wal_lsn()::text AS l")).rows[0].l;
  const lsn0 = await lsn();
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
  const walBytes = Number(
    (await pool.query("SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::bigint AS d", [await lsn(), lsn0]))
      .rows[0].d,
  );
  process.stdout.write(
    `${JSON.stringify({ mode, rows, workers, limit, delivered: count, seconds, rate: count / seconds, walBytesPerDelivery: walBytes / count, cpuUs: { client: per(cpuMs(process.pid) - cpu0), postgres: per(postgresCpuMs() - pgCpu0) } })}\n`,
  );
} finally {
  await pool.end();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`DROP SCHEMA ${schema} CASCADE`);
  await c.end();
}
