// The claim path on PostgreSQL, without HTTP: a table shaped like hookbuffer's events with leases
// in the row and a partial index of pending rows, seeded server-side with 1 KiB bodies.
//   drain:   WORKERS loops, each claiming 64 rows (UPDATE ... FROM (SELECT ... FOR UPDATE SKIP
//            LOCKED)) and marking them delivered, until nothing is left: deliveries/s, and CPU per
//            delivery of this process and of PostgreSQL's processes.
//   latency: CLAIMS single claims of LIMIT rows at PENDING pending rows, each one timed, the rows
//            then marked delivered (untimed): p50/p99.
// Usage: node bench/pg-claim.mjs <drain|latency> <pg|postgres> <pendingRows> [workers|claims] [limit]
// PG_URL is the database; a schema of its own is created and dropped. Prints JSON on stdout.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { connect } from "./lib/pg-driver.mjs";
import { cpuMs, postgresCpuMs } from "./lib/proc.mjs";

const [mode, driver, pendingArg, nArg, limitArg] = process.argv.slice(2);
const url = process.env.PG_URL;
const pending = Number(pendingArg);
const limit = Number(limitArg ?? 64);
const schema = `hb_bench_claim_${randomBytes(4).toString("hex")}`;
const workers = mode === "drain" ? Number(nArg ?? 4) : 1;
const db = await connect(driver, url, schema, workers);

const claimSql = `UPDATE events e SET locked_by = $2, lease_until = now() + interval '30 seconds'
  FROM (SELECT seq FROM events
        WHERE route = $1 AND status = 'pending' AND next_attempt_at <= now()
          AND (lease_until IS NULL OR lease_until < now())
        ORDER BY next_attempt_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED) c
  WHERE e.seq = c.seq
  RETURNING e.seq, e.id, e.headers, e.body, e.attempts`;
const deliveredSql = `UPDATE events SET status = 'delivered', attempts = attempts + 1, locked_by = NULL,
  lease_until = NULL, delivered_at = now() WHERE seq = ANY($1::bigint[])`;

try {
  await db.query(`CREATE TABLE events (
    seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, route text NOT NULL, status text NOT NULL,
    next_attempt_at timestamptz NOT NULL, attempts int NOT NULL DEFAULT 0,
    locked_by text, lease_until timestamptz, headers text NOT NULL, body bytea NOT NULL,
    delivered_at timestamptz)`);
  const t0 = performance.now();
  // Seeded in one statement, then indexed, then analysed: what a long-lived backlog looks like.
  await db.query(`INSERT INTO events (id, route, status, next_attempt_at, headers, body)
    SELECT 'ev' || g, 'line', 'pending', now() - interval '1 hour' + g * interval '1 microsecond',
      '[["content-type","application/json"]]', convert_to(repeat('x', 1024), 'UTF8')
    FROM generate_series(1, ${pending}) g`);
  await db.query("CREATE INDEX events_due ON events (route, next_attempt_at, seq) WHERE status = 'pending'");
  await db.query("VACUUM ANALYZE events");
  const seedSeconds = (performance.now() - t0) / 1000;

  if (mode === "drain") {
    let delivered = 0;
    const cpu0 = cpuMs(process.pid);
    const pgCpu0 = postgresCpuMs();
    const t = performance.now();
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        for (;;) {
          const rows = await db.query(claimSql, ["line", `worker-${w}`, limit]);
          if (rows.length === 0) return;
          await db.query(deliveredSql, [rows.map((r) => Number(r.seq))]);
          delivered += rows.length;
        }
      }),
    );
    const seconds = (performance.now() - t) / 1000;
    const perEvent = (ms) => (ms * 1000) / delivered;
    process.stdout.write(
      `${JSON.stringify({
        mode,
        driver,
        workers,
        limit,
        pending,
        seedSeconds,
        delivered,
        seconds,
        rate: delivered / seconds,
        cpuUs: { client: perEvent(cpuMs(process.pid) - cpu0), postgres: perEvent(postgresCpuMs() - pgCpu0) },
      })}\n`,
    );
  } else {
    const claims = Number(nArg ?? 1000);
    // A claim only writes a lease: lost in a crash, the rows are claimable again, which is what an
    // expired lease means anyway. So it may commit without waiting for the WAL flush; timed both ways.
    const timed = async (sync) => {
      await db.query(`SET synchronous_commit = ${sync}`);
      const ms = [];
      for (let i = 0; i < claims; i++) {
        const t = performance.now();
        const rows = await db.query(claimSql, ["line", "latency", limit]);
        ms.push(performance.now() - t);
        await db.query(deliveredSql, [rows.map((r) => Number(r.seq))]);
      }
      ms.sort((a, b) => a - b);
      const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
      return { p50: at(0.5), p99: at(0.99), max: at(1) };
    };
    const syncOn = await timed("on");
    const syncOff = await timed("off");
    process.stdout.write(
      `${JSON.stringify({ mode, driver, limit, pending, seedSeconds, claims, syncOn, syncOff })}\n`,
    );
  }
} finally {
  await db.end();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`DROP SCHEMA ${schema} CASCADE`);
  await c.end();
}
