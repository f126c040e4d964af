// The PostgreSQL store's own claim (dist/store/postgres, with its per-key order check) at a deep
// backlog: PENDING rows through the store's migrations, 1 KiB bodies, every event with one of 100
// ordering keys (as the bench's LINE route orders by user; KEYS=n for n keys, KEYS=0 for none). Each claim is timed; the rows are then
// recorded delivered (untimed), as a delivery loop would.
// Usage: node bench/pg-store-claim.mjs <pendingRows> <claims> <limit,limit,...>; PG_URL is the database.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createPgClaimQueries, createPostgresPool, migratePostgres } from "../dist/store/postgres/index.js";
import { delivered } from "./lib/pg-outcome.mjs";

const [pendingArg, claimsArg = "1000", limitArg = "64"] = process.argv.slice(2);
const url = process.env.PG_URL;
const pending = Number(pendingArg);
const keys = Number(process.env.KEYS ?? 100);
const orderKey = keys === 0 ? "NULL" : `'U' || (g % ${keys})`;
const schema = `hb_bench_store_${randomBytes(4).toString("hex")}`;
const pool = await createPostgresPool({ url, schema, max: 2 });
try {
  await migratePostgres(pool);
  const t0 = performance.now();
  await pool.query(`INSERT INTO events (id, route, received_at, method, path, query, headers, body,
      body_size, order_key, status, next_attempt_at, schedule_start)
    SELECT 'ev' || g, 'line', 0, 'POST', '/callback', '', '[["content-type","application/json"]]',
      convert_to(repeat('x', 1024), 'UTF8'), 1024, ${orderKey}, 'pending', g, 0
    FROM generate_series(1, ${pending}) g`);
  await pool.query("VACUUM ANALYZE events");
  const seedSeconds = (performance.now() - t0) / 1000;
  // ASYNC_LEASE=1: claims through a pool that commits leases without waiting for the WAL flush.
  const leasePool = process.env.ASYNC_LEASE
    ? await createPostgresPool({ url, schema, max: 1, asyncCommit: true })
    : pool;
  const q = createPgClaimQueries(leasePool);
  const durable = createPgClaimQueries(pool);
  const byLimit = [];
  for (const limit of limitArg.split(",").map(Number)) {
    const ms = [];
    let claimed = 0;
    for (let i = 0; i < Number(claimsArg); i++) {
      const t = performance.now();
      const got = await q.claim("line", "bench", 30_000, limit);
      ms.push(performance.now() - t);
      claimed += got.length;
      await durable.recordOutcomes("bench", got.map(delivered));
    }
    ms.sort((a, b) => a - b);
    const at = (x) => ms[Math.min(ms.length - 1, Math.floor(x * ms.length))];
    byLimit.push({ limit, claims: ms.length, claimed, p50: at(0.5), p99: at(0.99), max: at(1) });
  }
  if (leasePool !== pool) await leasePool.end();
  process.stdout.write(
    `${JSON.stringify({ pending, keys, asyncLease: leasePool !== pool, seedSeconds, byLimit })}\n`,
  );
} finally {
  await pool.end();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`DROP SCHEMA ${schema} CASCADE`);
  await c.end();
}
