// Client CPU per event of each PostgreSQL driver on the ingest statement, without HTTP: batches of
// BATCH rows (1 KiB bodies) INSERTed from unnest() one after another on one connection, the two
// drivers alternating round by round. CPU time is less at the mercy of a loaded machine than a
// rate is. Usage: node bench/pg-driver-cost.mjs <rounds> <batchesPerRound> <batch>; PG_URL.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { median } from "./lib/figures.mjs";
import { lineBody } from "./lib/line-body.mjs";
import { connect } from "./lib/pg-driver.mjs";

const [rounds = "6", batches = "200", batchArg = "50"] = process.argv.slice(2);
const url = process.env.PG_URL;
const batch = Number(batchArg);
const schema = `hb_bench_cost_${randomBytes(4).toString("hex")}`;
const bodies = Array.from({ length: batch }, (_, i) => Buffer.from(lineBody(i)));
const headers = JSON.stringify({ "content-type": "application/json", "x-line-signature": "x".repeat(44) });
const insert = `INSERT INTO events (received_at, headers, body)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[])`;
const drivers = {};
for (const d of ["pg", "postgres"]) drivers[d] = await connect(d, url, schema, 1);
await drivers.pg.query(`CREATE TABLE events (
  id bigserial PRIMARY KEY, received_at bigint NOT NULL, headers text NOT NULL, body bytea NOT NULL)`);
const runs = { pg: [], postgres: [] };
try {
  for (let r = 0; r < Number(rounds); r++) {
    for (const d of r % 2 ? ["postgres", "pg"] : ["pg", "postgres"]) {
      const cpu0 = process.cpuUsage();
      const t = performance.now();
      for (let b = 0; b < Number(batches); b++) {
        const now = Date.now();
        await drivers[d].query(insert, [bodies.map(() => now), bodies.map(() => headers), bodies]);
      }
      const cpu = process.cpuUsage(cpu0);
      const events = Number(batches) * batch;
      runs[d].push({
        cpuUs: (cpu.user + cpu.system) / events,
        msPerBatch: (performance.now() - t) / Number(batches),
      });
    }
  }
} finally {
  for (const d of Object.values(drivers)) await d.end();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`DROP SCHEMA ${schema} CASCADE`);
  await c.end();
}
const summary = Object.fromEntries(
  Object.entries(runs).map(([d, xs]) => [
    d,
    { cpuUs: median(xs.map((x) => x.cpuUs)), msPerBatch: median(xs.map((x) => x.msPerBatch)) },
  ]),
);
process.stdout.write(
  `${JSON.stringify({ batch, batches: Number(batches), rounds: Number(rounds), summary, runs })}\n`,
);
