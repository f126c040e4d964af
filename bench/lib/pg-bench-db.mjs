// The bench's PostgreSQL database: HOOKBUFFER_BENCH_PG_URL (default: hookbuffer_bench on
// 127.0.0.1:5432, created when missing). Every server writes a schema of its own, dropped afterwards.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { cpuMs } from "./proc.mjs";

export const url =
  process.env.HOOKBUFFER_BENCH_PG_URL || "postgres://postgres@127.0.0.1:5432/hookbuffer_bench";

export async function withClient(target, fn) {
  const c = new pg.Client({ connectionString: target });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function ensureDatabase() {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  u.pathname = "/postgres";
  await withClient(u.toString(), async (c) => {
    const found = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) await c.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  });
}

export const newSchema = (name) => `hb_bench_${name.replace(/\W/g, "_")}_${randomBytes(3).toString("hex")}`;
export const dropSchema = (schema) =>
  withClient(url, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
/** Rows of `table` in `schema`, optionally only those matching `where` (SQL text). */
export const countRows = (schema, table, where = "true") =>
  withClient(url, async (c) =>
    Number((await c.query(`SELECT count(*) AS n FROM ${schema}.${table} WHERE ${where}`)).rows[0].n),
  );

/**
 * CPU time so far (ms) of the PostgreSQL processes working for the bench database: its backends
 * (autovacuum workers included) and the cluster's WAL writer, checkpointer and background writer,
 * by pid. Other databases' backends are left out: on a shared server they are other people's work.
 */
export const postgresCpu = () =>
  withClient(url, async (c) => {
    const { rows } = await c.query(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database()
         OR backend_type IN ('walwriter', 'checkpointer', 'background writer')`,
    );
    const byPid = new Map();
    for (const { pid } of rows) {
      try {
        byPid.set(pid, cpuMs(pid));
      } catch {
        // The process ended meanwhile.
      }
    }
    return byPid;
  });

/** CPU used between two `postgresCpu()` readings (ms); a process gone by the second is not counted. */
export function postgresCpuBetween(before, after) {
  let ms = 0;
  for (const [pid, now] of after) ms += now - (before.get(pid) ?? 0);
  return ms;
}
