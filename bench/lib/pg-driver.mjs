// The two PostgreSQL drivers behind one `query(text, params) -> rows` call, so a bench runs the
// same SQL through either: `pg` (node-postgres, a Pool) or `postgres` (porsager's postgres.js).
// Both prepare statements (pg by a name derived from the text), both use `search_path` = schema.
import { createHash } from "node:crypto";
import pg from "pg";
import postgres from "postgres";

export async function connect(driver, url, schema, max) {
  if (!url) throw new Error("PG_URL is required");
  if (schema) {
    // Created up front on one plain connection, so the pool's connections can all use it.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await c.end();
  }
  const searchPath = schema ? `${schema},public` : "public";
  if (driver === "pg") {
    const pool = new pg.Pool({ connectionString: url, max, options: `-c search_path=${searchPath}` });
    const names = new Map();
    const nameOf = (text) => {
      if (!names.has(text)) names.set(text, `q${createHash("sha1").update(text).digest("hex").slice(0, 16)}`);
      return names.get(text);
    };
    return {
      driver,
      async query(text, params = []) {
        return (await pool.query({ name: params.length ? nameOf(text) : undefined, text, values: params }))
          .rows;
      },
      end: () => pool.end(),
    };
  }
  if (driver === "postgres") {
    const sql = postgres(url, { max, connection: { search_path: searchPath }, onnotice: () => {} });
    // postgres.js types an array parameter by its element (bytea, int8, text) once it has read the
    // server's array types, which its first query does.
    await sql`SELECT 1`;
    const element = (xs) => {
      const x = xs.find((v) => v !== null);
      return Buffer.isBuffer(x) ? 17 : typeof x === "number" ? 20 : 25;
    };
    const param = (p) => (Array.isArray(p) ? sql.array(p, element(p)) : p);
    return {
      driver,
      query: (text, params = []) => sql.unsafe(text, params.map(param), { prepare: true }),
      end: () => sql.end({ timeout: 5 }),
    };
  }
  throw new Error(`DRIVER must be pg or postgres, not ${driver}`);
}
